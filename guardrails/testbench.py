"""The policy test bench: what a draft policy would do, before an officer publishes it.

    trial = request_question_trial(officer, draft_rules, "question")   # web tier: row + queued task
    trial = request_replay(officer, draft_rules, 500)
    run_trial(trial.pk, screener)                                      # worker (guardrails/tasks.py)

Both run the real QuestionScreener in the worker (the web tier never loads a model), under the
draft and under the version in force, and write one ledger event when done: who, the draft's
digest, the versions compared and the verdicts or counts, never a question's text.

A question typed into the bench is sealed under the ledger key until the worker has screened it,
then dropped from the row. A replay opens the sealed questions of the last N exchanges that keep
theirs (a blocked question is dropped from the analyst's exchange and sealed only in its trace in
the ledger, so blocks are not replayed) and keeps, for each one whose verdict would change, the
exchange, its trace and the two verdicts: never the text.
"""
import base64

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from appliance.answering.models import Exchange
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import record_event
from appliance.audit.sealing import ledger_key
from appliance.errors import ApplianceError, QuestionInvalid
from appliance.plain_words import VERDICT_WORDS, finding_action_words, score_words
from guardrails.findings import BLOCK, REPORT, SENSITIVE
from guardrails.models import PolicyTrial, PolicyVersion
from guardrails.policy import MAX_QUESTION_CHARS_LIMIT, Policy, rules_digest
from guardrails.publishing import current_policy_version
from guardrails.reasons import AS_TYPED, reason_for, reading_words
from guardrails.topics import report_from

MAX_REPLAY = 5000
REPLAY_BATCH = 50  # questions screened between two progress updates (and two short transactions)
SEAL_SEQ = 0  # as for exchanges: no ledger entry has sequence 0, so the associated data is unique
NEWLY_BLOCKED, NEWLY_ALLOWED, ROUTE_CHANGED = "newly_blocked", "newly_allowed", "route_changed"


class ReplayTooLarge(ApplianceError):
    code = "replay_too_large"


def request_question_trial(actor, draft_rules: dict, question: str) -> PolicyTrial:
    """Record a one-question trial of DRAFT_RULES and queue it for the worker. Raises QuestionInvalid
    (empty or too long) and PolicyInvalid before anything is stored."""
    if not question.strip():
        raise QuestionInvalid("Type a question to screen.")
    if len(question) > MAX_QUESTION_CHARS_LIMIT:
        raise QuestionInvalid(f"The question is longer than {MAX_QUESTION_CHARS_LIMIT} characters.")
    with transaction.atomic():
        trial = new_trial(actor, draft_rules, PolicyTrial.Kind.QUESTION, size=1, total=1)
        trial.sealed_question = seal_question(trial.uid, question)
        trial.save(update_fields=["sealed_question"])
        transaction.on_commit(lambda: queue_trial(trial.pk))
    return trial


def request_replay(actor, draft_rules: dict, size: int) -> PolicyTrial:
    """Record a replay of the last SIZE stored questions under DRAFT_RULES and queue it. Raises
    ReplayTooLarge and PolicyInvalid."""
    if not 1 <= size <= MAX_REPLAY:
        raise ReplayTooLarge(f"Replay from 1 to {MAX_REPLAY:,} questions.")
    with transaction.atomic():
        trial = new_trial(actor, draft_rules, PolicyTrial.Kind.REPLAY, size=size, total=len(replayed_ids(size)))
        transaction.on_commit(lambda: queue_trial(trial.pk))
    return trial


def new_trial(actor, draft_rules: dict, kind: str, *, size: int, total: int) -> PolicyTrial:
    rules = Policy.from_rules(draft_rules).to_rules()  # raises PolicyInvalid; normalised as publishing does
    return PolicyTrial.objects.create(
        kind=kind, requested_by=actor, draft_rules=rules, draft_digest=rules_digest(rules),
        current_version=current_policy_version().number, size=size, total=total,
    )


def queue_trial(trial_id: int) -> None:
    from guardrails.tasks import run_policy_trial

    run_policy_trial.delay(trial_id)


def seal_question(uid, question: str) -> dict:
    sealed = ledger_key().seal(SEAL_SEQ, f"policy-trial:{uid}:question", question)
    return {"ciphertext": base64.b64encode(sealed.ciphertext).decode("ascii"),
            "commitment": sealed.digest["commitment"], "key_id": sealed.digest["key_id"]}


def open_question(trial: PolicyTrial) -> str:
    stored = trial.sealed_question
    return ledger_key().open(SEAL_SEQ, f"policy-trial:{trial.uid}:question", base64.b64decode(stored["ciphertext"]), stored)


def replayed_ids(size: int) -> list[int]:
    """The last SIZE exchanges whose question is stored (sealed), newest first."""
    stored = Exchange.objects.filter(sealed_question__isnull=False).exclude(status__in=[
        Exchange.Status.QUEUED, Exchange.Status.ANSWERING])
    return list(stored.order_by("-asked_at", "-id").values_list("id", flat=True)[:size])


def run_trial(trial_id: int, screener) -> bool:
    """Run one queued trial; False when there was nothing to do (claimed already). A failure marks the
    trial failed (the page stops waiting) and goes up to the worker's log."""
    claimed = PolicyTrial.objects.filter(pk=trial_id, status=PolicyTrial.Status.QUEUED).update(
        status=PolicyTrial.Status.RUNNING)
    if not claimed:
        return False
    trial = PolicyTrial.objects.select_related("requested_by").get(pk=trial_id)
    draft = Policy.from_rules(trial.draft_rules, version=0)
    current = PolicyVersion.objects.get(number=trial.current_version).to_policy()
    try:
        if trial.kind == PolicyTrial.Kind.QUESTION:
            screen_trial_question(trial, screener, draft, current)
        else:
            replay(trial, screener, draft, current)
    except Exception:
        PolicyTrial.objects.filter(pk=trial_id).update(status=PolicyTrial.Status.FAILED, sealed_question=None)
        raise
    return True


def screen_trial_question(trial: PolicyTrial, screener, draft: Policy, current: Policy) -> None:
    [(draft_verdict, current_verdict)] = screener.run_under_each([open_question(trial)], [draft, current])
    result = {"draft": verdict_shown(draft_verdict, draft), "current": verdict_shown(current_verdict, current)}
    with transaction.atomic():
        # The question goes with the result: from here on the row holds findings only.
        PolicyTrial.objects.filter(pk=trial.pk).update(
            status=PolicyTrial.Status.DONE, done=1, sealed_question=None, result=result)
        record_event("policy.tested", trial.requested_by, trial, draft_digest=trial.draft_digest,
                     current_version=trial.current_version, draft_action=draft_verdict.action,
                     current_action=current_verdict.action)


def verdict_shown(verdict, policy: Policy | None = None) -> dict:
    """A verdict under POLICY as the bench shows it: the action, and each finding in plain words (no
    text; a denied topic's near miss with its similarity and the policy's thresholds)."""
    return {"action": verdict.action, "words": VERDICT_WORDS[verdict.action],
            "findings": [finding_shown(finding, policy) for finding in verdict.findings]}


REPORTED_LIKENESS = "the attack detector saw a faint likeness to an instruction, not enough to act on"
REPORTED_TOPIC = "it comes close to the denied topic '{name}', not close enough to block"
TOPIC_SCORES = " (similarity {score}; blocks from {block}, reported from {report})"


def finding_shown(finding, policy: Policy | None = None) -> dict:
    """A finding as the bench lists it: what it is in words, what it does, and its code (secondary)."""
    words = reason_for(finding)
    # A score under the threshold is reported, not acted on: "It reads like an instruction to the
    # assistant" or "it matches the denied topic" beside an ordinary question would alarm the
    # officer for nothing.
    if finding.action == REPORT and finding.detector == "injection_classifier":
        words = REPORTED_LIKENESS
    elif finding.action == REPORT and finding.detector == "denied_topic":
        words = REPORTED_TOPIC.format(name=finding.type)
        if policy is not None:  # how far it is from blocking: what the officer tunes
            threshold = policy.topic_min_similarity
            words += TOPIC_SCORES.format(score=f"{finding.score:.2f}", block=score_words(threshold),
                                         report=score_words(report_from(threshold)))
    if finding.reading != AS_TYPED:
        words = f"{words} ({reading_words(finding.reading)})"
    return {"words": words, "action": finding.action, "action_words": finding_action_words(finding.action),
            "code": finding.type if finding.detector in ("pii", "length", "obfuscation") else finding.detector}


def replay(trial: PolicyTrial, screener, draft: Policy, current: Policy) -> None:
    ids = replayed_ids(trial.size)
    PolicyTrial.objects.filter(pk=trial.pk).update(total=len(ids))
    changes, counts = [], {NEWLY_BLOCKED: 0, NEWLY_ALLOWED: 0, ROUTE_CHANGED: 0, "unchanged": 0}
    for start in range(0, len(ids), REPLAY_BATCH):
        found = Exchange.objects.in_bulk(ids[start:start + REPLAY_BATCH])
        # An exchange deleted (retention) since the replay was asked for is skipped.
        batch = [found[exchange_id] for exchange_id in ids[start:start + REPLAY_BATCH] if exchange_id in found]
        verdicts = screener.run_under_each([exchange.question for exchange in batch], [draft, current])
        for exchange, (draft_verdict, current_verdict) in zip(batch, verdicts):
            change = change_of(current_verdict.action, draft_verdict.action)
            counts[change or "unchanged"] += 1
            if change:
                changes.append(changed_row(exchange, change, draft_verdict, current_verdict))
        PolicyTrial.objects.filter(pk=trial.pk).update(done=F("done") + len(batch))
    link_traces(changes)
    with transaction.atomic():
        PolicyTrial.objects.filter(pk=trial.pk).update(
            status=PolicyTrial.Status.DONE, result={"counts": counts, "changes": changes, "replayed": sum(counts.values()),
                                                    "finished_at": timezone.now().isoformat()})
        record_event("policy.replayed", trial.requested_by, trial, asked=trial.size, replayed=sum(counts.values()),
                     draft_digest=trial.draft_digest, current_version=trial.current_version, **counts)


def change_of(before: str, after: str) -> str | None:
    """How a verdict changes from BEFORE (the version in force) to AFTER (the draft); None if it does not."""
    if before == after:
        return None
    if after == BLOCK:
        return NEWLY_BLOCKED
    if before == BLOCK:
        return NEWLY_ALLOWED
    return ROUTE_CHANGED


def changed_row(exchange: Exchange, change: str, draft_verdict, current_verdict) -> dict:
    return {"exchange": exchange.pk, "trace_id": exchange.trace_id, "asked_at": exchange.asked_at.strftime("%Y-%m-%d %H:%M"),
            "change": change, "current": VERDICT_WORDS[current_verdict.action], "draft": VERDICT_WORDS[draft_verdict.action],
            "why": sorted({finding_shown(f)["words"] for f in draft_verdict.findings if f.action in (BLOCK, SENSITIVE)})}


def link_traces(changes: list[dict]) -> None:
    """Each changed row gets the sequence number of its answer trace's ledger entry (the page links to
    it). Reviews of the trace target it too: only the "answer.*" entry is the trace itself."""
    trace_ids = [row["trace_id"] for row in changes if row["trace_id"]]
    seqs = dict(LedgerEntry.objects.filter(target_type="trace", target_id__in=trace_ids, action__startswith="answer.")
                .values_list("target_id", "seq"))
    for row in changes:
        row["seq"] = seqs.get(row["trace_id"])


def last_replay_summary(actor, rules: dict) -> dict | None:
    """ACTOR's newest finished replay, summed up for the publish event: the trial, the version it
    compared with, its counts, and whether the draft it replayed is the RULES being published."""
    trial = PolicyTrial.objects.filter(kind=PolicyTrial.Kind.REPLAY, status=PolicyTrial.Status.DONE,
                                       requested_by=actor).first()
    if trial is None:
        return None
    return {"trial": trial.pk, "draft_digest": trial.draft_digest, "compared_with_version": trial.current_version,
            "same_rules": trial.draft_digest == rules_digest(rules), "replayed": trial.result.get("replayed", 0),
            **trial.result.get("counts", {})}
