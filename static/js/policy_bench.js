// The policy editor's test bench: sends the form's current (unpublished) values with a question or
// a replay size, then polls the trial the worker runs and shows its state. The state arrives as
// HTML the server rendered (escaped by Django's templates); no typed text is echoed by this script.
(function () {
  "use strict";

  var POLL_MS = 500;
  var bench = document.getElementById("policy-bench");
  var policyForm = document.getElementById("policy-form");
  if (!bench || !policyForm) { return; }

  function showError(target, message) {
    target.textContent = "";
    var node = document.createElement("p");
    node.className = "error"; node.setAttribute("role", "alert"); node.textContent = message;
    target.appendChild(node);
  }

  // A replay shown for another draft than the form's is flagged, with "Replay again". The digest
  // of the form's draft comes from policy_changes.js after each edit; before any edit the replay
  // on the page is of the form as it stands.
  function flagStaleReplay() {
    var of = document.getElementById("replay-of");
    var drafts = document.getElementById("draft-changes");
    if (!of || !drafts || drafts.dataset.digest === undefined) { return; }
    document.getElementById("replay-stale").hidden = drafts.dataset.digest === of.dataset.digest;
  }
  document.addEventListener("policy-draft-changed", flagStaleReplay);

  // Once a replay of the draft in the form has finished, the publish warning ("the replay was of an
  // earlier draft", "publish without a replay") no longer holds: it goes, with its button. The
  // server says the same when the form is posted again.
  function dropPublishWarning() {
    var of = document.getElementById("replay-of");
    if (!of || !document.getElementById("replay-stale").hidden) { return; }
    ["publish-warning", "publish-warning-top"].forEach(function (id) {
      var node = document.getElementById(id);
      if (node) { node.parentNode.removeChild(node); }
    });
  }

  // The replay's results need the page's width: they show in their own section below the form
  // and the bench, scrolled into view when the first state arrives.
  function showReplaySection() {
    var section = document.getElementById("replay-section");
    section.hidden = false;
    document.getElementById("replay-where").hidden = false;
    return section;
  }

  function poll(url, target, button, first) {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        target.innerHTML = state.html;
        target.dataset.status = state.status;
        flagStaleReplay();
        if (target.id === "replay-result") {
          if (first) { showReplaySection().scrollIntoView({block: "start"}); }
          if (state.status === "done") { dropPublishWarning(); }
        }
        if (state.in_progress) {
          window.setTimeout(function () { poll(url, target, button, false); }, POLL_MS);
        } else {
          button.disabled = false;
        }
      })
      .catch(function () {
        showError(target, "The page lost contact with the appliance; reload to see the result.");
        button.disabled = false;
      });
  }

  function start(button, extra) {
    var target = document.getElementById(button.dataset.target);
    var data = new FormData(policyForm);
    Object.keys(extra).forEach(function (name) { data.set(name, extra[name]); });
    button.disabled = true;
    if (target.id === "replay-result") { showReplaySection(); }
    target.dataset.status = "sending";
    target.innerHTML = "<p class=\"muted\">Sending your draft to the worker…</p>";
    fetch(button.dataset.url, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.error) { showError(target, answer.error); button.disabled = false; return; }
        poll(answer.url, target, button, true);
      })
      .catch(function () {
        showError(target, "The page lost contact with the appliance; try again.");
        button.disabled = false;
      });
  }

  document.getElementById("bench-screen").addEventListener("click", function (event) {
    event.preventDefault();
    start(event.currentTarget, {bench_question: document.getElementById("bench-question").value});
  });
  document.getElementById("replay-result").addEventListener("click", function (event) {
    if (event.target.id === "replay-again") { document.getElementById("bench-replay").click(); }
  });
  document.getElementById("bench-replay").addEventListener("click", function (event) {
    event.preventDefault();
    start(event.currentTarget, {replay_count: document.getElementById("replay-count").value});
  });
}());
