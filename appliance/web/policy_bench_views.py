"""The policy editor's test bench: screen a question, or replay stored questions, under the draft in
the form (not yet published) and under the version in force. The worker does the screening
(guardrails/testbench.py); these views queue it and answer the page's polls."""
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from appliance.errors import ApplianceError
from appliance.web.policy_forms import PolicyForm
from appliance.web.policy_views import edit_policy
from guardrails.models import PolicyTrial
from guardrails.publishing import current_policy_version
from guardrails.testbench import MAX_REPLAY, request_question_trial, request_replay

DRAFT_NOTE = "Draft on the test bench"  # the form asks for a change note only to publish
REPLAY_COUNT_INVALID = f"Replay from 1 to {MAX_REPLAY:,} questions."


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
@require_GET
def trial_state(request, trial_id):
    """Polled by the editor while the worker runs a trial; an officer sees only their own trials."""
    trial = get_object_or_404(PolicyTrial, pk=trial_id, requested_by=request.user)
    html = render_to_string("web/policy_trial.html", {"trial": trial}, request=request)
    return JsonResponse({"in_progress": trial.is_in_progress, "status": trial.status, "done": trial.done,
                         "total": trial.total, "html": html})


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
