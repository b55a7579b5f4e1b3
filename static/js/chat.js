// The analyst's chat: polls each answer that is still on its way and shows it as it grows;
// a source button opens the passage it names. Text goes into the page as text, never as HTML.
(function () {
  "use strict";

  function render(article, state) {
    article.querySelector(".status").textContent = state.status_label;
    article.querySelector(".answer").className = "answer status-" + state.status;
    article.querySelector(".answer-text").textContent = state.answer;
    article.querySelector(".route").textContent = state.route ? state.route.reason : "";
    var flags = article.querySelector(".flags");
    flags.replaceChildren.apply(flags, state.flags.map(function (flag) {
      var item = document.createElement("li"); item.textContent = flag; return item;
    }));
    var sources = article.querySelector(".sources");
    sources.replaceChildren.apply(sources, state.sources.map(function (source) {
      var item = document.createElement("li"), button = document.createElement("button");
      button.type = "button"; button.className = "source";
      button.dataset.url = "/analyst/passages/" + encodeURIComponent(source.chunk_id) + "/";
      button.textContent = "[" + source.n + "] " + source.document + (source.page ? ", p. " + source.page : "") +
        (source.section ? " — " + source.section : "");
      item.appendChild(button); return item;
    }));
  }

  function follow(article) {
    fetch(article.dataset.stateUrl, {headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        render(article, state);
        if (state.in_progress) { setTimeout(function () { follow(article); }, 400); }
      })
      .catch(function () { setTimeout(function () { follow(article); }, 2000); });
  }

  document.querySelectorAll("article.exchange[data-in-progress=true]").forEach(follow);

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.source");
    if (!button) { return; }
    fetch(button.dataset.url, {headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (passage) {
        document.getElementById("passage-title").textContent = passage.document;
        document.getElementById("passage-where").textContent =
          [passage.page ? "page " + passage.page : "", passage.section].filter(Boolean).join(" · ");
        document.getElementById("passage-text").textContent = passage.text;
        document.getElementById("passage").hidden = false;
      })
      .catch(function () {
        document.getElementById("passage-title").textContent = "This passage is not available to you.";
        document.getElementById("passage-text").textContent = "";
        document.getElementById("passage").hidden = false;
      });
  });
}());
