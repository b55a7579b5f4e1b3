"""The compliance console: the audit ledger for compliance officers to filter, read, review,
export and verify. Every page and file it serves from the ledger is recorded in the ledger it
shows (appliance/audit/review.py); the public key page shows no entry and is not. Nothing here
changes or removes an entry: a review is a new entry.
"""
import hashlib
import json

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appliance.accounts.decorators import permission_required
from appliance.answering.masking import answer_as_shown, is_masked_fully, shown_question
from appliance.audit import queue, review
from appliance.audit.checkpoints import key_id_of, public_key_bytes
from appliance.audit.models import LedgerEntry
from appliance.audit.watching import shown_chain_state
from appliance.errors import ApplianceError
from appliance.plain_words import (check_words, detector_words, finding_action_words,
                                   finding_type_words, outcome_words, perimeter_words, route_name_words, source_words,
                                   timing_rows, verdict_words)
from appliance.web.ledger_forms import LedgerFilterForm
from appliance.web.views import people_with_roles
from guardrails.models import PolicyVersion
from guardrails.publishing import current_policy

read_ledger = permission_required("read_ledger")
CONTENT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
REVIEW_DONE = {
    review.REVIEWED: "Entry #{seq} marked reviewed.",
    review.ANNOTATED: "Note added to entry #{seq}.",
    review.ESCALATED: "Entry #{seq} escalated.",
}


MODEL_NOT_RUN = ("not_found", "blocked", "refused")
SHOWS_QUOTES = ("answered", "quoted")  # the outcomes whose quotes the analyst read
# After these decisions the item is handled: the officer moves on to the next one in the queue.
# An annotation is a note on an item still open, so the officer stays on it.
MOVES_ON = (review.REVIEWED, review.ESCALATED)


@read_ledger
@require_GET
def compliance_home(request):
    """The officer's home page: the review queue, with its counts per kind as filter links."""
    kind = request.GET.get("kind", queue.ALL)
    if kind != queue.ALL and kind not in queue.KINDS:
        kind = queue.ALL
    page, everything = queue.read_queue_page(request.user, kind, request.GET.get("page"))
    describe_answers(page.object_list)
    for entry in page.object_list:
        entry.route_words = route_words(entry.details.get("route"), entry.model_ran)
    kinds = queue.kind_counts(everything)
    shown = everything if kind == queue.ALL else [item for item in everything if kind in item.kinds]
    context = {"page": page, "kind": kind, "kinds": kinds, "to_review": sum(1 for item in shown if item.is_open),
               "order_words": queue.ORDER_WORDS,
               "handled": sum(1 for item in shown if not item.is_open), "people": people_with_roles()}
    return render(request, "web/compliance_home.html", context)


def route_words(route: dict | None, model_ran: bool = True) -> str:
    """An answer's ROUTE (trace details) as the officer reads it; the model is named only when
    MODEL_RAN (a question the documents do not answer is routed, but no model is called)."""
    if not route:
        return "Not routed: stopped at screening"
    words = route_name_words(route["name"])
    if not model_ran and route["name"] != "refuse":
        return f"{words}: no model ran"
    return f"{words}: {route['model']}" if route.get("model") else words


@read_ledger
@require_GET
def ledger(request):
    form = LedgerFilterForm(request.GET)
    chain = shown_chain_state()
    page = None
    if form.is_valid():
        page = review.read_entries_page(request.user, form.filters(), request.GET.get("page"),
                                        fold_own_reads=not form.shows_own_reads())
        describe_answers(page.object_list)
    context = {"form": form, "page": page, "query": form.query_string(), "known": review.known_labels(),
               "chain": chain, "shows_own_reads": form.is_valid() and form.shows_own_reads(),
               "query_folded": form.query_string(own_reads=False), "today": timezone.now().date()}
    return render(request, "web/ledger_list.html", context)


def describe_answers(entries) -> None:
    """Give each answer trace among ENTRIES its outcome in words (`outcome_words`), whether a model
    was called (`model_ran`), the names of its failed output checks (`failed_checks`) and its
    opened question cut short with its personal data masked by kind (`question_excerpt`: lists show
    many questions at once; the entry page shows the question whole)."""
    for entry in entries:
        if entry.is_answer_trace:
            outcome = (entry.details.get("outcome")
                       or next((label.value for label in entry.labels.all() if label.kind == "outcome"), "")
                       or entry.action.removeprefix("answer."))
            entry.outcome_words = outcome_words(outcome)
            # A trace names the route chosen even when the documents did not answer and no model
            # was called: the list must not say a model answered.
            entry.model_ran = outcome not in MODEL_NOT_RUN
            entry.failed_checks = [check["name"] for check in entry.details.get("output_checks") or []
                                   if not check.get("passed")]
            if entry.question is not None:
                entry.question_excerpt = excerpt(shown_question(str(entry.question), entry.details.get("verdict") or {}))


def excerpt(text: str, limit: int = 80) -> str:
    """TEXT on one line, cut at a word before LIMIT characters ("…" marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


@read_ledger
@require_http_methods(["GET", "POST"])
def ledger_entry(request, seq):
    """Entry SEQ's page; its question masked like the lists mask it until the officer asks to see it
    as asked (a POST with `show=question`), which is recorded as a read of its own."""
    show_question = request.method == "POST" and request.POST.get("show") == "question"
    if request.method == "POST" and not show_question:
        return redirect(entry_address(seq, request.GET.get("queue", ""), request.GET.get("from", "")))
    return render_entry(request, seq, request.GET.get("queue", ""), show_question=show_question,
                        came_from=request.GET.get("from", ""))


def render_entry(request, seq: int, kind: str, review_form: dict | None = None, status: int = 200, *,
                 show_question: bool = False, came_from: str = ""):
    """Entry SEQ's page (its read recorded), opened from the queue of KIND if one is given.
    REVIEW_FORM is what the officer typed in a review form that was refused, with the refusal
    (`error`, and the `field` it is about), so nothing typed is lost. SHOW_QUESTION: the question as
    asked, its showing recorded as a ledger read ("question"); else masked (question_shown).
    CAME_FROM "inbox": opened from the inbox, which the page links back to."""
    try:
        opened = review.read_entry(request.user, seq)
    except LedgerEntry.DoesNotExist:
        raise Http404(f"The ledger has no entry #{seq}.") from None
    if opened.entry.is_answer_trace:
        context_question = question_shown(opened, show_question)
        if context_question["question_revealed"]:
            review.record_ledger_read(request.user, "question", seq=seq)
    context = {"opened": opened, "entry": opened.entry, "review_state": opened.review_state,
               "passages": passages_with_text(opened),
               "details": plain_details(opened.entry.details, opened.entry.action),
               "details_in_words": opened.entry.action.startswith("policy."),
               "review_form": review_form or {}, "from_inbox": came_from == INBOX}
    if opened.entry.is_answer_trace:
        context |= context_question | evidence_in_words(opened)
        context |= {"assignees": review.escalation_choices(request.user),
                    "my_escalations": review.open_escalations(request.user).filter(
                        target_type="trace", target_id=opened.entry.target_id)}
    if opened.entry.is_answer_trace and (kind == queue.ALL or kind in queue.KINDS):
        context |= queue_place(opened.entry, kind, request.user)
    return render(request, "web/ledger_entry.html", context, status=status)


def question_shown(opened: review.OpenedEntry, show: bool) -> dict:
    """An answer trace's question as its page shows it: `question_text` masked as the lists mask it
    (shown_question: not shown at all when it was not checked for personal data, `question_checked`
    False), or as asked when SHOW; `question_masked` when masking hid something (the page then
    offers to show it as asked); `question_revealed` when SHOW showed what was masked."""
    question = opened.values.get("question")
    if question is None:
        return {"question_text": None, "question_masked": False, "question_revealed": False, "question_checked": True}
    verdict = opened.entry.details.get("verdict") or {}
    masked = shown_question(str(question), verdict)
    hides = masked != str(question)
    return {"question_text": question if show or not hides else masked, "question_masked": hides and not show,
            "question_revealed": hides and show, "question_checked": is_masked_fully(verdict)}


def queue_place(entry: LedgerEntry, kind: str, officer) -> dict:
    """Where ENTRY stands in OFFICER's queue of KIND: its neighbours, position and length, and why it is there."""
    seq = entry.seq
    items = queue.queue_items(kind, officer)
    previous, following = queue.neighbours(items, seq)
    item = next((item for item in items if item.seq == seq), None)
    flags = queue.flags_of(entry.details, item.kinds) if item is not None else []
    return {"queue": kind, "queue_words": queue.KINDS.get(kind, "All"), "queue_previous": previous,
            "queue_flags": flags, "queue_urgent": item is not None and item.urgent,
            "queue_next": following, "queue_position": queue.position(items, seq),
            "queue_length": len(items), "queue_to_review": sum(1 for item in items if item.is_open)}


def evidence_in_words(opened: review.OpenedEntry) -> dict:
    """What the evidence page says in words beside the trace's codes: the answer and quotes as the
    analyst was shown them (masked), each finding, the route, the output checks and the timings."""
    details = opened.entry.details
    verdict = details.get("verdict") or {}
    route = details.get("route") or {}
    outcome = details.get("outcome") or opened.entry.action.removeprefix("answer.")
    context = {
        "outcome_words": outcome_words(outcome),
        "verdict_words": verdict_words(verdict.get("action", "")),
        "findings": [finding | {"detector_words": detector_words(finding.get("detector", "")),
                                "type_words": finding_type_words(finding.get("detector", ""), finding.get("type", "")),
                                "action_words": finding_action_words(finding.get("action", ""))}
                     for finding in verdict.get("findings") or []],
        "route_words": route_name_words(route.get("name", "")) if route else "",
        "perimeter_words": perimeter_words(route.get("perimeter")) if route else "",
        "route_sources": [(source_words(source), level) for source, level in (route.get("sources") or {}).items()],
        "checks": [check | {"words": check_words(check.get("name", ""))} for check in details.get("output_checks") or []],
        "timings": timing_rows(details.get("timings") or {}),
    }
    # The code beside the verdict's words only when they do not already say it ("Clean", not "Clean clean").
    context["verdict_code_shown"] = verdict.get("action", "").lower() not in context["verdict_words"].lower()
    # Quotes reach the analyst only with an answer or as quotes only; otherwise they read a message.
    context["analyst_saw_quotes"] = outcome in SHOWS_QUOTES
    if "answer" in opened.values and "answer" not in opened.destroyed:
        context["shown"] = answer_as_shown(opened.values["answer"] or "", details, opened.values.get("passage_texts") or {},
                                           opened.entry.target_id, policy_of(verdict))
        context["masked_seen"] = context["shown"].masked_words if outcome in SHOWS_QUOTES else []
    return context


def policy_of(verdict: dict):
    """The policy version that judged VERDICT (the one whose masks the analyst saw), or the current
    one when that version is unknown."""
    version = PolicyVersion.objects.filter(number=verdict.get("policy_version")).first()
    return version.to_policy() if version is not None else current_policy()


def passages_with_text(opened: review.OpenedEntry) -> list[dict]:
    """An answer trace's passages, each with its sealed text (None when destroyed)."""
    texts = opened.values.get("passage_texts") or {}
    return [passage | {"text": texts.get(str(passage["n"]))} for passage in opened.entry.details.get("passages") or []]


def plain_details(details: dict, action: str = "") -> list[tuple[str, str]]:
    """An entry's details as (name, text) rows: a policy event's in words (testbench.policy_event_rows),
    others' nested values as JSON."""
    from guardrails.testbench import policy_event_rows  # the bench loads the screening policy's modules

    words = policy_event_rows(action, details)
    if words is not None:
        return words
    return [(name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))
            for name, value in sorted(details.items())]


@permission_required("review_traces")
@require_POST
def review_entry(request, seq):
    """Record the officer's review of answer SEQ. A refused review shows the page again with
    what was typed and the reason beside the field at fault (400)."""
    entry = get_object_or_404(LedgerEntry, seq=seq)
    decision, kind = request.POST.get("decision", ""), request.POST.get("queue", "")
    typed = {"note": request.POST.get("note", ""), "assignee": request.POST.get("assignee", "")}
    try:
        review.review_trace(entry, request.user, decision, typed["note"],
                            typed["assignee"] if decision == review.ESCALATED else "",
                            again=bool(request.POST.get("again")))
    except ApplianceError as error:
        if not entry.is_answer_trace:  # no review form on that page to show it in
            messages.error(request, error.message)
            return redirect(entry_address(seq, kind))
        field = getattr(error, "field", "decision")
        return render_entry(request, seq, kind, typed | {"error": error.message, "field": field}, status=400)
    messages.success(request, REVIEW_DONE[decision].format(seq=seq))
    if decision in MOVES_ON and (kind == queue.ALL or kind in queue.KINDS):
        return redirect(next_in_queue(seq, kind, request.user))
    return redirect(entry_address(seq, kind))


@permission_required("review_traces")
@require_POST
def resolve_escalation(request, seq):
    """The assignee resolves the escalation entry SEQ, with a note; back to the answer's page."""
    escalation = get_object_or_404(LedgerEntry, seq=seq)
    answer_seq = escalation.details.get("seq", seq)
    from_inbox = request.POST.get("from") == INBOX
    try:
        review.resolve_escalation(escalation, request.user, request.POST.get("note", ""))
    except ApplianceError as error:
        messages.error(request, error.message)
        return redirect(entry_address(answer_seq, came_from=INBOX if from_inbox else ""))
    if not from_inbox:
        messages.success(request, f"Escalation of entry #{answer_seq} resolved.")
        return redirect(entry_address(answer_seq))
    following = next_escalation(escalation, request.user)
    if following is None:
        messages.success(request, f"Escalation of entry #{answer_seq} resolved. Nothing else is escalated to you.")
        return redirect("compliance-inbox")
    messages.success(request, f"Escalation of entry #{answer_seq} resolved. Next in your inbox: entry #{following}.")
    return redirect(entry_address(following, came_from=INBOX))


def next_escalation(closed: LedgerEntry, officer) -> int | None:
    """The answer OFFICER takes up from the inbox once the escalation CLOSED is resolved: that of
    the next open escalation in the inbox's order (newest first: the next older one, else the
    newest); None when none is left."""
    waiting = list(review.open_escalations(officer).values_list("seq", "details__seq"))
    following = [answer for seq, answer in waiting if seq < closed.seq] or [answer for _, answer in waiting]
    return following[0] if following else None


@permission_required("review_traces")
@require_GET
def inbox(request):
    """The escalations assigned to the signed-in officer that are not resolved, newest first, each
    with its question (masked, cut short), the answer's outcome and the escalation's note."""
    escalations = review.read_inbox(request.user)
    traces = [escalation.trace for escalation in escalations if escalation.trace is not None]
    describe_answers(traces)
    for trace in traces:
        trace.flags = queue.flags_of(trace.details, queue.kinds_of(
            trace.details.get("outcome") or trace.action.removeprefix("answer."),
            (trace.details.get("route") or {}).get("sensitivity"), trace.details.get("output_checks")))
    return render(request, "web/inbox.html", {"escalations": escalations})


INBOX = "inbox"  # an entry page's ?from= when opened from the inbox


def entry_address(seq: int, kind: str = "", came_from: str = "") -> str:
    """Entry SEQ's page, opened from the queue of KIND when one is given, or from the inbox
    (CAME_FROM "inbox")."""
    address = reverse("ledger-entry", args=[seq])
    if kind == queue.ALL or kind in queue.KINDS:
        return f"{address}?queue={kind}"
    return f"{address}?from={INBOX}" if came_from == INBOX else address


def next_in_queue(seq: int, kind: str, officer) -> str:
    """Where OFFICER goes once entry SEQ is handled: the next item still to review in their queue
    of KIND, or the queue itself (which then says there is nothing left) when none is."""
    following = queue.next_open_after(queue.queue_items(kind, officer), seq)
    if following is not None:
        return entry_address(following, kind)
    return reverse("compliance-home") + ("" if kind == queue.ALL else f"?kind={kind}")


@read_ledger
@require_GET
def ledger_export(request, fmt):
    if fmt not in review.EXPORT_FORMATS:
        raise Http404(f"The ledger is exported as jsonl or csv, not {fmt}.")
    form = LedgerFilterForm(request.GET)
    if not form.is_valid():  # the list shows what is wrong with the filters
        return redirect(f"{reverse('ledger')}?{request.GET.urlencode()}")
    lines = review.export_entries(request.user, form.filters(), fmt)
    response = StreamingHttpResponse(lines, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="ledger-{timezone.now():%Y-%m-%d}.{fmt}"'
    return response


@read_ledger
@require_GET
def ledger_evidence(request, seq):
    entry = get_object_or_404(LedgerEntry, seq=seq)
    if not entry.is_answer_trace:
        raise Http404(f"Entry #{seq} is not an answer trace: only answers have evidence bundles.")
    try:
        bundle = review.evidence_of(request.user, entry)
    except ApplianceError as error:
        messages.error(request, error.message)
        return redirect("ledger-entry", seq=seq)
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evidence-entry-{seq}.json"'
    return response


@read_ledger
@require_POST
def ledger_verify(request):
    report = review.verify_and_record(request.user)
    if report.is_intact:
        messages.success(request, report.summary)
    else:
        messages.error(request, f"Chain broken: {report.problems[0].message}")
    return redirect("ledger")


KEY_FILE = "audit-public-key.txt"


@read_ledger
@require_GET
def public_key(request):
    """The key that signs checkpoints, for verifying evidence bundles outside the appliance."""
    key = public_key_bytes()
    context = {"key": key.hex(), "fingerprint": hashlib.sha256(key).hexdigest(), "key_id": key_id_of(key),
               "key_file": KEY_FILE}
    return render(request, "web/public_key.html", context)


@read_ledger
@require_GET
def public_key_download(request):
    """The key as tools/verify_evidence.py reads it from a file: 64 hex digits."""
    response = HttpResponse(public_key_bytes().hex() + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{KEY_FILE}"'
    return response
