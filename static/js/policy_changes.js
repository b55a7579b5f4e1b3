// The policy editor's "What this draft changes": whenever the officer edits the form, sends its
// values (nothing is published) and shows the list the server rendered (escaped by Django's
// templates); no typed text is echoed by this script. It keeps the draft's digest on the section
// for the test bench, which flags a replay of another draft as out of date.
(function () {
  "use strict";

  var WAIT_MS = 400;
  var section = document.getElementById("draft-changes");
  var policyForm = document.getElementById("policy-form");
  if (!section || !policyForm) { return; }
  var list = document.getElementById("draft-changes-list");
  var timer = null;
  var asked = 0;

  function show(message, className) {
    list.textContent = "";
    var node = document.createElement("p");
    node.className = className; node.textContent = message;
    list.appendChild(node);
  }

  function refresh() {
    var mine = ++asked;
    fetch(section.dataset.url, {method: "POST", body: new FormData(policyForm), credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // a later edit's answer is on its way
        // The test bench compares the draft's digest with its replay's ("" for a draft not valid).
        section.dataset.digest = answer.error ? "" : answer.digest;
        document.dispatchEvent(new CustomEvent("policy-draft-changed"));
        if (answer.error) { show("This draft cannot be published yet: " + answer.error, "error"); return; }
        list.innerHTML = answer.html;
      })
      .catch(function () {
        if (mine === asked) { show("The page lost contact with the appliance; the list may be out of date.", "error"); }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, WAIT_MS);
  }

  policyForm.addEventListener("input", later);
  policyForm.addEventListener("change", later);
}());
