// Ledger entry opened from the review queue: j next, k previous, r mark reviewed.
// Bound only when the page was opened from the queue (#queue-place), and never while typing.
(function () {
  if (!document.getElementById("queue-place")) return;
  const actions = {
    j: () => document.getElementById("queue-next"),
    k: () => document.getElementById("queue-previous"),
    r: () => document.getElementById("mark-reviewed"),
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const target = actions[event.key] && actions[event.key]();
    if (!target) return;
    event.preventDefault();
    target.click();
  });
})();
