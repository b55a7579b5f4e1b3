// Collection page: drag-and-drop uploads, live document status, confirmations.
(function () {
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("id_files");
  if (dropzone && input) {
    ["dragenter", "dragover"].forEach((name) => dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => dropzone.addEventListener(name, () => dropzone.classList.remove("over")));
    dropzone.addEventListener("drop", (event) => {
      event.preventDefault();
      input.files = event.dataTransfer.files;
      document.getElementById("upload-form").submit();
    });
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("input.auto-submit")) event.target.form.submit();
  });
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // While any document is in progress, the server marks the table with data-poll, the address of
  // the same page of rows (its filter, search and page number kept): refresh it.
  function poll() {
    const table = document.getElementById("documents");
    if (!table || !table.dataset.poll) return;
    fetch(table.dataset.poll, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => { table.outerHTML = html; })
      .catch(() => {})
      .finally(() => setTimeout(poll, 1500));
  }
  setTimeout(poll, 1500);
})();
