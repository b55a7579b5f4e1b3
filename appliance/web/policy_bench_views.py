"""The policy editor's test bench: screen a question, or replay stored questions, under the draft in
the form (not yet published) and under the version in force. The worker does the screening
(guardrails/testbench.py); these views queue it and answer the page's polls."""
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from appliance.answering.masking import NOT_CHECKED, is_masked_fully, masked_question
from appliance.audit.models import LedgerEntry
from appliance.audit.review import open_questions, record_ledger_read
from appliance.errors import ApplianceError
from appliance.web.policy_forms import PolicyForm
from appliance.web.ledger_views import excerpt
from appliance.web.policy_views import edit_policy
from guardrails.models import PolicyTrial
from guardrails.policy_changes import changes_between
from guardrails.publishing import current_policy_version
from guardrails.testbench import MAX_REPLAY, draft_digest, request_question_trial, request_replay

DRAFT_NOTE = "Draft on the test bench"  # the form asks for a change note only to publish
REPLAY_COUNT_INVALID = f"Replay from 1 to {MAX_REPLAY:,} questions."
CHANGES_SHOWN = 500


@edit_policy
@require_POST
def bench_question(request):
    form = draft_form(request)
    if not form.is_valid():
        return JsonResponse({"error": first_error(form)}, status=400)
    try:
        trial = request_question_trial(request.user, form.rules(), request.POST.get("bench_question", ""))
    except ApplianceError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    return JsonResponse({"url": reverse("policy-trial", args=[trial.pk])}, status=202)


@edit_policy
@require_POST
def bench_replay(request):
    form = draft_form(request)
    if not form.is_valid():
        return JsonResponse({"error": first_error(form)}, status=400)
    try:
        size = int(request.POST.get("replay_count", ""))
    except ValueError:
        return JsonResponse({"error": REPLAY_COUNT_INVALID}, status=400)
    try:
        trial = request_replay(request.user, form.rules(), size)
    except ApplianceError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    return JsonResponse({"url": reverse("policy-trial", args=[trial.pk])}, status=202)


@edit_policy
@require_POST
def draft_changes(request):
    """What the draft in the form changes from the version in force, as the editor shows it above
    the publish button; the page asks again whenever the officer edits the form."""
    form = draft_form(request)
    if not form.is_valid():
        return JsonResponse({"error": first_error(form)}, status=400)
    current = current_policy_version()
    html = render_to_string("web/policy_changes.html", {
        "changes": changes_between(current.to_policy(), form.policy), "draft": True}, request=request)
    # The page compares the digest with its replay's: a replay of another draft is out of date.
    return JsonResponse({"html": html, "digest": draft_digest(form.rules()), "version": current.number})


@edit_policy
@require_GET
def trial_state(request, trial_id):
    """Polled by the editor while the worker runs a trial; an officer sees only their own trials."""
    trial = get_object_or_404(PolicyTrial, pk=trial_id, requested_by=request.user)
    changes = changes_shown(request.user, trial) if trial.status == PolicyTrial.Status.DONE else []
    html = render_to_string("web/policy_trial.html", {"trial": trial, "changes": changes,
                                                      "changes_shown": CHANGES_SHOWN}, request=request)
    return JsonResponse({"in_progress": trial.is_in_progress, "status": trial.status, "done": trial.done,
                         "total": trial.total, "html": html})


def changes_shown(officer, trial: PolicyTrial) -> list[dict]:
    """The replay's changed rows the page shows, each with its question (`question`) opened from its
    trace, cut short and masked as the queue masks it, and also where either policy found personal
    data (a blocked question's trace records no personal data: screening stopped first); the read
    is recorded, as the queue's is."""
    rows = [dict(row) for row in (trial.result or {}).get("changes", [])[:CHANGES_SHOWN]]
    if not rows:
        return rows
    rows_by_seq = {row["seq"]: row for row in rows if row.get("seq")}
    entries = list(LedgerEntry.objects.filter(seq__in=list(rows_by_seq)))
    shown = open_questions(entries)
    if shown:
        record_ledger_read(officer, "policy_replay", trial=trial.pk, questions_shown=shown)
    questions = {entry.seq: excerpt(replayed_question(entry, rows_by_seq[entry.seq].get("mask") or []))
                 for entry in entries if getattr(entry, "question", None) is not None}
    for row in rows:
        row["question"] = questions.get(row.get("seq"), "")
    return rows


def draft_form(request) -> PolicyForm:
    data = request.POST.copy()
    if not data.get("change_note", "").strip():
        data["change_note"] = DRAFT_NOTE
    return PolicyForm(data, policy=current_policy_version().to_policy())


def first_error(form) -> str:
    """The form's first error in one sentence, naming the field: "Denied topics: Line 2: write …"."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "The draft is not valid."


def replayed_question(entry, replay_mask: list[dict]) -> str:
    """The question of a replayed ledger ENTRY as the replay lists it: masked with the findings of its
    verdict when asked and the personal data the replay's screenings found (REPLAY_MASK). A question
    screening never checked for personal data, in which the replay found none either, is not shown."""
    verdict = entry.details.get("verdict") or {}
    if not replay_mask and not is_masked_fully(verdict):
        return NOT_CHECKED
    return masked_question(str(entry.question), [*(verdict.get("findings") or []), *replay_mask])
