"""Compliance officers' pages for the screening policy: edit (publishing a new version) and history."""
from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from appliance.accounts.decorators import permission_required
from appliance.audit.models import LedgerEntry
from appliance.plain_words import entity_words
from appliance.web.policy_forms import PolicyForm, topic_help
from guardrails.models import PolicyVersion
from guardrails.policy_changes import changes_between
from guardrails.publishing import current_policy_version, publish_policy
from guardrails.testbench import draft_digest, last_replay_summary, replay_summary_words, replay_warning

edit_policy = permission_required("edit_policy")


@edit_policy
def policy_editor(request):
    current = current_policy_version()
    form = PolicyForm(request.POST or None, policy=current.to_policy())
    if request.method == "POST" and form.is_valid():
        if int(request.POST.get("based_on", 0)) != current.number:
            messages.error(request, f"Policy v{current.number} was published while you were editing. "
                                    "Your changes were not saved; review the current version and edit again.")
            return redirect("policy-editor")
        warning = replay_warning(last_replay_summary(request.user, form.rules(), current.number))
        if warning and not request.POST.get("publish_unreplayed"):
            # Not published: the officer confirms first, knowing the replay does not show this draft.
            return render_editor(request, form, current, publish_warning=warning)
        try:
            version = publish_policy(form.rules(), form.cleaned_data["change_note"], request.user)
        except IntegrityError:
            messages.error(request, "Another officer published at the same moment. Your changes were not saved; edit again.")
            return redirect("policy-editor")
        messages.success(request, f"Published policy v{version.number}. Questions are screened under it from now on.")
        return redirect("policy-editor")
    return render_editor(request, form, current)


def render_editor(request, form: PolicyForm, current: PolicyVersion, publish_warning: str = ""):
    versions = PolicyVersion.objects.only("number", "published_at", "published_by", "change_note")[:50]
    changes = draft_changes(form, current)
    # A posted draft's digest, for the test bench to compare with a replay's (policy_bench.js).
    digest = draft_digest(form.rules()) if form.is_bound and changes is not None else ""
    return render(request, "web/policy_editor.html", {"form": form, "current": current, "versions": versions,
                                                      "draft_changes": changes, "draft_digest": digest,
                                                      "publish_warning": publish_warning})


def draft_changes(form: PolicyForm, current: PolicyVersion) -> list | None:
    """What the draft in FORM changes from CURRENT; [] for the unchanged form, None when the draft
    is not valid (its errors say why)."""
    if not form.is_bound:
        return []
    return changes_between(current.to_policy(), form.policy) if form.is_valid() else None


@edit_policy
@require_GET
def policy_version(request, number):
    version = get_object_or_404(PolicyVersion, number=number)
    policy = version.to_policy()
    previous = version.previous()
    changes = changes_between(previous.to_policy(), policy) if previous is not None else None
    published = LedgerEntry.objects.filter(action="policy.published", target_type="policyversion",
                                           target_id=str(version.pk)).first()
    return render(request, "web/policy_version.html", {
        "version": version, "policy": policy, "previous": previous, "changes": changes, "published": published,
        "replay": replay_summary_words(published.details.get("last_replay")) if published else None,
        "entity_rows": entity_rows(policy),
        "label_rows": sorted(((entity_words(e), e, level) for e, level in policy.entity_labels.items()),
                             key=lambda row: row[0].lower()), "topic_help": topic_help(policy.topic_min_similarity)})


def entity_rows(policy) -> list[tuple[str, str, str, float | None]]:
    """(plain name, code, action, minimum score) for each entity type, sorted by plain name."""
    return sorted(((entity_words(entity), entity, action, policy.entity_min_scores.get(entity))
                   for entity, action in policy.entity_actions.items()), key=lambda row: row[0].lower())
