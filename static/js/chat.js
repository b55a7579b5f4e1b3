// The analyst's chat: polls each answer that is still on its way and redraws it as it grows (the
// quotes first, then the model's sentence, then the outcome); a quote or a source opens its passage
// in the side panel with the quoted words marked. Document and model text go into the page as text
// nodes, never as HTML.
(function () {
  "use strict";

  var RELATED_SHOWN = 3;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function kindOf(state) {
    if (state.in_progress) { return "progress"; }
    return ["answered", "quoted", "not_found"].indexOf(state.outcome) >= 0 ? state.outcome : "notice";
  }

  function passageUrl(article, chunkId) {
    return article.dataset.passageUrl.replace("CHUNK", encodeURIComponent(chunkId));
  }

  function quoteNode(article, quote) {
    var node = el("blockquote", "quote");
    node.tabIndex = 0; node.title = "Open the passage";
    node.dataset.url = passageUrl(article, quote.chunk_id);
    node.dataset.spans = quote.start + "-" + quote.end;
    node.dataset.label = quote.label;
    node.appendChild(el("p", "", "\u201c" + quote.shown + "\u201d"));
    node.appendChild(el("footer", "", "[" + quote.n + "] " + quote.label));
    return node;
  }

  function sourceList(article, sources, evidence) {
    var list = el("ul", "sources");
    sources.forEach(function (source) {
      var item = el("li"), button = el("button", "source", "[" + source.n + "] " + source.label);
      button.type = "button";
      button.dataset.url = passageUrl(article, source.chunk_id);
      button.dataset.label = source.label;
      button.dataset.spans = evidence.filter(function (quote) { return quote.n === source.n; })
        .map(function (quote) { return quote.start + "-" + quote.end; }).join(";");
      item.appendChild(button); list.appendChild(item);
    });
    return list;
  }

  function bodyOf(article, state, kind) {
    var body = [], shown = [], rest = [];
    if (kind === "notice") {
      body.push(el("p", "explanation", state.answer));
    } else if (kind !== "quoted" && state.answer) {
      body.push(el("p", "answer-text", state.answer));
    }
    if (state.evidence.length && kind !== "notice") {
      body.push(el("p", "lead", kind === "quoted" ?
        "The sentences that best match your question, quoted as written. No answer was written from them: check that they answer it." : kind === "not_found" ?
        "The closest the documents come; the appliance could not confirm that they answer your question:" : "From the documents:"));
      state.evidence.forEach(function (quote) { body.push(quoteNode(article, quote)); });
    }
    if (kind === "quoted" && state.flags.length) {
      var why = el("details", "note");
      why.appendChild(el("summary", "", "Why no written answer?"));
      why.appendChild(document.createTextNode("The model's own wording was held back. " + state.flags.join(" ")));
      body.push(why);
    }
    if (kind === "not_found") {
      // Only a near miss (it quotes its closest sentences) offers passages as possibly related.
      var related = state.evidence.length ? RELATED_SHOWN : 0;
      shown = state.sources.slice(0, related); rest = state.sources.slice(related);
    } else if (kind === "answered" || kind === "quoted") {
      shown = state.sources.filter(function (source) { return state.cited.indexOf(source.n) >= 0; });
      rest = state.sources.filter(function (source) { return state.cited.indexOf(source.n) < 0; });
    }
    if (shown.length) {
      body.push(el("p", "lead", kind === "not_found" ? "Possibly related:" : "Sources:"));
      body.push(sourceList(article, shown, state.evidence));
    }
    if (rest.length) {
      var details = el("details", "also");
      details.appendChild(el("summary", "", "Also retrieved (" + rest.length + ")"));
      details.appendChild(sourceList(article, rest, state.evidence));
      body.push(details);
    }
    return body;
  }

  function render(article, state) {
    var kind = kindOf(state), answer = article.querySelector(".answer");
    answer.className = "answer kind-" + kind;
    answer.dataset.outcome = state.outcome || "";
    var status = article.querySelector(".status");
    status.replaceChildren();
    if (state.in_progress) {
      var working = el("span", "working"); working.setAttribute("aria-hidden", "true");
      working.append(el("i"), el("i"), el("i"));
      status.appendChild(working);
    }
    status.appendChild(el("span", "status-text", state.status_label));
    var body = article.querySelector(".answer-body");
    body.replaceChildren.apply(body, bodyOf(article, state, kind));
    // The server words the routing line (chat_views.route_line), the same for the page and the poll.
    var reason = state.route_line;
    var route = article.querySelector(".route");
    if (reason && !route) { route = answer.appendChild(el("p", "route")); }
    if (route) { route.textContent = reason; route.title = reason; route.hidden = !reason; }
  }

  function follow(article) {
    fetch(article.dataset.stateUrl, {headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (state) {
        render(article, state);
        article.dataset.inProgress = state.in_progress ? "true" : "false";
        if (state.in_progress) { setTimeout(function () { follow(article); }, 400); }
      })
      .catch(function () { setTimeout(function () { follow(article); }, 2000); });
  }

  // The passage's text with the quoted spans ("start-end;start-end", offsets in the text) marked.
  function markedText(text, spans) {
    var ranges = spans ? spans.split(";").map(function (span) {
      var ends = span.split("-").map(Number); return {start: ends[0], end: ends[1]};
    }).filter(function (range) { return range.end > range.start; }) : [];
    ranges.sort(function (a, b) { return a.start - b.start; });
    var nodes = [], at = 0;
    ranges.forEach(function (range) {
      var start = Math.max(range.start, at), end = Math.min(range.end, text.length);
      if (end <= start) { return; }
      nodes.push(document.createTextNode(text.slice(at, start)));
      nodes.push(el("mark", "", text.slice(start, end)));
      at = end;
    });
    nodes.push(document.createTextNode(text.slice(at)));
    return nodes;
  }

  // Personal data the policy withholds arrives masked; where the policy lets the analyst's role
  // see it, "Reveal" asks again with reveal=1, which the server records in the audit ledger.
  var opened = null;

  function openPassage(trigger, reveal) {
    var title = document.getElementById("passage-title"), where = document.getElementById("passage-where"),
        text = document.getElementById("passage-text"), notice = document.getElementById("passage-notice"),
        revealButton = document.getElementById("passage-reveal");
    document.querySelectorAll(".opened").forEach(function (node) { node.classList.remove("opened"); });
    trigger.classList.add("opened");
    opened = trigger;
    var url = trigger.dataset.url + (reveal ? (trigger.dataset.url.indexOf("?") >= 0 ? "&" : "?") + "reveal=1" : "");
    fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (passage) {
        title.textContent = "Passage";
        where.textContent = trigger.dataset.label;
        text.replaceChildren.apply(text, markedText(passage.text, trigger.dataset.spans));
        notice.textContent = passage.notice || "";
        notice.hidden = !passage.notice;
        revealButton.hidden = !passage.can_reveal;
        var mark = text.querySelector("mark");
        if (mark) { mark.scrollIntoView({block: "nearest"}); }
      })
      .catch(function () {
        title.textContent = "Passage";
        where.textContent = "This passage is not available to you.";
        text.replaceChildren();
        notice.hidden = true; revealButton.hidden = true;
      });
  }

  var revealButton = document.getElementById("passage-reveal");
  if (revealButton) {
    revealButton.addEventListener("click", function () { if (opened) { openPassage(opened, true); } });
  }

  document.querySelectorAll("article.exchange[data-in-progress=true]").forEach(follow);

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("button.source, blockquote.quote");
    if (trigger) { openPassage(trigger); }
  });
  document.addEventListener("keydown", function (event) {
    var trigger = event.target.closest && event.target.closest("blockquote.quote");
    if (trigger && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); openPassage(trigger); }
  });

  var form = document.getElementById("ask-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      button.disabled = true; button.textContent = "Sending…";
    });
  }
  // After asking, the newest exchange is the one to watch: bring it into view if it is below the fold.
  var last = document.querySelector("article.exchange:last-of-type");
  if (last && last.getBoundingClientRect().bottom > window.innerHeight) { last.scrollIntoView({block: "nearest"}); }
}());
