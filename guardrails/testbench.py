"""The policy test bench: what a draft policy would do, before an officer publishes it.

    trial = request_question_trial(officer, draft_rules, "question")   # web tier: row + queued task
    trial = request_replay(officer, draft_rules, 500)
    run_trial(trial.pk, screener)                                      # worker (guardrails/tasks.py)

Both run the real QuestionScreener in the worker (the web tier never loads a model), under the
draft and under the version in force, and write one ledger event when done: who, the draft's
digest, the versions compared and the verdicts or counts, never a question's text.

A question typed into the bench is sealed under the ledger key until the worker has screened it,
then dropped from the row. A replay opens the sealed questions of the last N answer traces in the
ledger (blocked questions too: the trace is the one place a blocked question is kept) and keeps,
for each one the draft would treat differently, its trace, where it goes under each policy
(blocked, kept inside, may go out), the findings in words and the spans to mask: never the text.
"Differently" is newly blocked, newly allowed, route changed (kept inside against may go out, with
the sensitivity the trace recorded from its collections, passages and conversation), or newly
reported only (a finding the draft records for officers that the version in force does not).
"""
import base64

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from appliance.answering.masking import MASKED_DETECTORS
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import record_event
from appliance.audit.review import open_questions
from appliance.routing.decision import SOURCE_WORDING
from appliance.audit.sealing import ledger_key
from appliance.errors import ApplianceError, QuestionInvalid
from appliance.plain_words import VERDICT_WORDS, character_range, entity_words, finding_action_words, score_words, verdict_words
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
NEWLY_REPORTED = "newly_reported"
CHANGES = (NEWLY_BLOCKED, NEWLY_ALLOWED, ROUTE_CHANGED, NEWLY_REPORTED)


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
        trial = new_trial(actor, draft_rules, PolicyTrial.Kind.REPLAY, size=size, total=len(replayed_seqs(size)))
        transaction.on_commit(lambda: queue_trial(trial.pk))
    return trial


def draft_digest(draft_rules: dict) -> str:
    """The digest a trial of DRAFT_RULES records (rules normalised as publishing does); the editor
    compares it with its replay's to say when the form has changed since. Raises PolicyInvalid."""
    return rules_digest(Policy.from_rules(draft_rules).to_rules())


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
    question = open_question(trial)
    [(draft_verdict, current_verdict)] = screener.run_under_each([question], [draft, current])
    # The officer typed the question: the result keeps what each finding matched in it, personal
    # data masked (matched_words), and drops the question.
    masked = masked_text(question, masked_spans(draft_verdict, current_verdict))
    result = {"draft": verdict_shown(draft_verdict, draft, question, masked),
              "current": verdict_shown(current_verdict, current, question, masked)}
    with transaction.atomic():
        # The question goes with the result: from here on the row holds findings only.
        PolicyTrial.objects.filter(pk=trial.pk).update(
            status=PolicyTrial.Status.DONE, done=1, sealed_question=None, result=result)
        record_event("policy.tested", trial.requested_by, trial, draft_digest=trial.draft_digest,
                     current_version=trial.current_version, draft_action=draft_verdict.action,
                     current_action=current_verdict.action)


def verdict_shown(verdict, policy: Policy | None = None, question: str | None = None,
                  masked: str | None = None) -> dict:
    """A verdict under POLICY as the bench shows it: the action, and each finding in plain words with
    what it matched in QUESTION (shown from MASKED, the question with its personal data masked) and,
    for a score, the policy's threshold."""
    return {"action": verdict.action, "words": VERDICT_WORDS[verdict.action],
            "findings": [finding_shown(finding, policy, question, masked) for finding in verdict.findings]}


def masked_text(question: str, spans: list[dict]) -> str:
    """QUESTION with each character of SPANS (masked_spans()) replaced by "•": offsets are kept, so a
    detector's match shown from it hides the personal data inside it."""
    chars = list(question)
    for span in spans:
        for index in range(max(0, span["start"]), min(len(chars), span["end"])):
            chars[index] = "•"
    return "".join(chars)


REPORTED_LIKENESS = "the attack detector saw a faint likeness to an instruction, not enough to act on"
REPORTED_TOPIC = "it comes close to the denied topic '{name}', not close enough to block"
TOPIC_SCORES = " (similarity {score}; blocks from {block}, reported from {report})"
CLASSIFIER_SCORES = " (probability {score}; blocks from {block})"
MATCH_CHARS = 80  # the longest match the bench shows of a detector that is not about personal data


def finding_shown(finding, policy: Policy | None = None, question: str | None = None,
                  masked: str | None = None) -> dict:
    """A finding as the bench lists it: what it is in words, what it does, its code (secondary) and,
    given the QUESTION, `matched`: what it matched, personal data masked."""
    words = reason_for(finding)
    # A score under the threshold is reported, not acted on: "It reads like an instruction to the
    # assistant" or "it matches the denied topic" beside an ordinary question would alarm the
    # officer for nothing.
    if finding.action == REPORT and finding.detector == "injection_classifier":
        words = REPORTED_LIKENESS
    elif finding.action == REPORT and finding.detector == "denied_topic":
        words = REPORTED_TOPIC.format(name=finding.type)
    if policy is not None:  # how far it is from the threshold: what the officer tunes
        if finding.detector == "denied_topic":
            threshold = policy.topic_min_similarity
            words += TOPIC_SCORES.format(score=f"{finding.score:.2f}", block=score_words(threshold),
                                         report=score_words(report_from(threshold)))
        elif finding.detector == "injection_classifier":
            words += CLASSIFIER_SCORES.format(score=f"{finding.score:.2f}",
                                              block=score_words(policy.injection_min_score))
    if finding.reading != AS_TYPED:
        words = f"{words} ({reading_words(finding.reading)})"
    shown = {"words": words, "action": finding.action, "action_words": finding_action_words(finding.action),
             "code": finding.type if finding.detector in ("pii", "length", "obfuscation") else finding.detector}
    if question is not None:
        shown["matched"] = matched_words(finding, question, masked)
    return shown


def matched_words(finding, question: str, masked: str | None = None) -> str:
    """What FINDING matched in QUESTION, for the bench: an e-mail address with its local part masked
    ("e-mail address j***@gmail.com"), other personal data and the officer's patterns (which may
    name personal data) as their kind and place ("a payment card number, characters 12-31"), other
    detectors' matches as text from MASKED (the question with the personal data any verdict found
    masked), cut short. The bench keeps this in its result row."""
    start, end = max(0, finding.start), min(len(question), finding.end)
    if not 0 <= start < end or finding.detector in ("length", "screening"):
        return ""
    text = question[start:end]
    if finding.detector == "pii" and finding.type == "EMAIL_ADDRESS" and "@" in text:
        local, domain = text.rsplit("@", 1)
        return f"{entity_words(finding.type)} {local[:1]}***@{domain}"
    if finding.detector in ("pii", "policy_pattern"):
        kind = entity_words(finding.type) if finding.detector == "pii" else f"pattern '{finding.type}'"
        return f"{kind}, characters {character_range(start, end)}"
    if finding.reading != AS_TYPED:
        return f"characters {character_range(start, end)}"  # found in a decoded reading: the raw span reads as noise
    text = (masked or question)[start:end]
    return text if len(text) <= MATCH_CHARS else text[:MATCH_CHARS - 1] + "…"


def replay(trial: PolicyTrial, screener, draft: Policy, current: Policy) -> None:
    seqs = replayed_seqs(trial.size)
    PolicyTrial.objects.filter(pk=trial.pk).update(total=len(seqs))
    changes, counts = [], dict.fromkeys((*CHANGES, "unchanged", "unreadable"), 0)
    for start in range(0, len(seqs), REPLAY_BATCH):
        entries = list(LedgerEntry.objects.filter(seq__in=seqs[start:start + REPLAY_BATCH]).order_by("-seq"))
        open_questions(entries)  # each question opened from its trace, blocked ones too
        # A question destroyed (retention) or whose seal does not open is counted, not screened.
        readable = [entry for entry in entries if entry.question is not None]
        counts["unreadable"] += len(entries) - len(readable)
        verdicts = screener.run_under_each([entry.question for entry in readable], [draft, current])
        for entry, (draft_verdict, current_verdict) in zip(readable, verdicts):
            row = compared(entry, draft_verdict, current_verdict)
            counts[row["change"] or "unchanged"] += 1
            if row["change"]:
                changes.append(row)
        PolicyTrial.objects.filter(pk=trial.pk).update(done=F("done") + len(entries))
    replayed = len(seqs) - counts["unreadable"]
    with transaction.atomic():
        PolicyTrial.objects.filter(pk=trial.pk).update(
            status=PolicyTrial.Status.DONE, result={"counts": counts, "changes": changes, "replayed": replayed,
                                                    "finished_at": timezone.now().isoformat()})
        record_event("policy.replayed", trial.requested_by, trial, asked=trial.size, replayed=replayed,
                     draft_digest=trial.draft_digest, current_version=trial.current_version, **counts)


def replayed_seqs(size: int) -> list[int]:
    """The answer traces of the last SIZE questions asked, newest first. Every question is sealed in
    its trace, a blocked one too (the analyst's exchange drops a blocked question), so replaying from
    the traces is what lets a loosened rule show the questions it would now let through."""
    traces = LedgerEntry.objects.filter(target_type="trace", action__startswith="answer.")
    return list(traces.order_by("-seq").values_list("seq", flat=True)[:size])


# Where a question goes (Route, routing/decision.py), as the replay compares it.
BLOCKED, INSIDE, OUTSIDE, UNSEARCHED = "blocked", "inside", "outside", "unsearched"
DESTINATION_WORDS = {
    BLOCKED: "blocked",
    OUTSIDE: "may go out: only public data",
    UNSEARCHED: "allowed: it was blocked when asked, so never searched; the passages it finds decide the route",
}
CHANGE_WORDS = {
    NEWLY_BLOCKED: "Newly blocked", NEWLY_ALLOWED: "Newly allowed", ROUTE_CHANGED: "Route changed",
    NEWLY_REPORTED: "Newly reported only",
}


def destination(action: str, recorded: dict | None) -> tuple[str, str]:
    """Where a question with a verdict of ACTION goes, given the RECORDED route of its trace (the
    sensitivity its collections, passages and conversation gave it; None when it was never routed),
    and why, in words: ("inside", "kept inside: the collection asked about is classified internal")."""
    if action == BLOCK:
        return BLOCKED, DESTINATION_WORDS[BLOCKED]
    if action == SENSITIVE:
        return INSIDE, "kept inside: the question is sensitive"
    if recorded is None:
        return UNSEARCHED, DESTINATION_WORDS[UNSEARCHED]
    for source, level in (recorded.get("sources") or {}).items():
        if source != "question" and level not in ("public", None):
            return INSIDE, "kept inside: " + SOURCE_WORDING[source].format(level=level)
    return OUTSIDE, DESTINATION_WORDS[OUTSIDE]


def compared(entry: LedgerEntry, draft_verdict, current_verdict) -> dict:
    """How the question of the trace ENTRY fares under the draft against the version in force: the
    change (None if none), each side in words, why, and the spans the page masks (offsets, no text)."""
    recorded = entry.details.get("route")
    before, before_words = destination(current_verdict.action, recorded)
    after, after_words = destination(draft_verdict.action, recorded)
    reported = newly_reported(draft_verdict, current_verdict)
    if before == after:
        change = NEWLY_REPORTED if reported else None
    elif after == BLOCKED:
        change = NEWLY_BLOCKED
    elif before == BLOCKED:
        change = NEWLY_ALLOWED
    else:
        change = ROUTE_CHANGED
    return {"seq": entry.seq, "trace_id": entry.target_id, "asked_at": entry.at.strftime("%Y-%m-%d %H:%M"),
            "change": change, "current": before_words, "draft": after_words,
            "why": acting_words(draft_verdict), "why_current": acting_words(current_verdict), "reported": reported,
            "mask": masked_spans(draft_verdict, current_verdict)}


def acting_words(verdict) -> list[str]:
    return sorted({finding_shown(f)["words"] for f in verdict.findings if f.action in (BLOCK, SENSITIVE)})


def newly_reported(draft_verdict, current_verdict) -> list[str]:
    """The draft's report-only findings, in words, that the version in force does not report."""
    before = {(f.detector, f.type) for f in current_verdict.findings if f.action == REPORT}
    return sorted({finding_shown(f)["words"] for f in draft_verdict.findings
                   if f.action == REPORT and (f.detector, f.type) not in before})


def masked_spans(*verdicts) -> list[dict]:
    """The personal data and pattern matches that either verdict acts on (blocks or keeps inside), as
    findings masked_question() masks, as the queue masks a question: a blocked question's verdict
    stops before personal data is looked for, so the other side's findings are what masks it. What
    both only report (a date, a place) stays readable."""
    return [{"detector": f.detector, "type": f.type, "start": f.start, "end": f.end, "action": SENSITIVE}
            for verdict in verdicts for f in verdict.findings if f.detector in MASKED_DETECTORS and f.action != REPORT]


def last_replay_summary(actor, rules: dict, version_in_force: int | None = None) -> dict | None:
    """ACTOR's replay for the publish event and the publish confirmation: the newest finished replay
    of exactly RULES against VERSION_IN_FORCE (default: the version in force now) if there is one,
    else their newest finished replay. It gives the trial, the version it compared with, its counts,
    and `same_rules`: whether it replayed exactly these rules against the version they replace.
    None when ACTOR never finished a replay."""
    in_force = version_in_force if version_in_force is not None else current_policy_version().number
    replays = PolicyTrial.objects.filter(kind=PolicyTrial.Kind.REPLAY, status=PolicyTrial.Status.DONE,
                                         requested_by=actor)
    trial = replays.filter(draft_digest=rules_digest(rules), current_version=in_force).first() or replays.first()
    if trial is None:
        return None
    return {"trial": trial.pk, "draft_digest": trial.draft_digest, "compared_with_version": trial.current_version,
            "same_rules": trial.draft_digest == rules_digest(rules) and trial.current_version == in_force,
            "replayed": trial.result.get("replayed", 0), **trial.result.get("counts", {})}


def replay_warning(summary: dict | None) -> str:
    """What the publish confirmation says when SUMMARY (last_replay_summary) is not a replay of the
    draft being published; "" when it is."""
    if summary is None:
        return "There is no replay of this draft: you have not replayed stored questions under it."
    if not summary["same_rules"]:
        return (f"The replay was of an earlier draft (replay {summary['trial']}, "
                f"against v{summary['compared_with_version']}): it does not show what this draft would change.")
    return ""


def replay_summary_words(summary: dict | None) -> str:
    """A replay summary recorded at publishing (the "last_replay" of a policy.published event), in
    one plain sentence for the version page and the ledger."""
    if not summary:
        return "Published without a replay: no stored questions were replayed under it before publishing."
    counts = change_counts_words(summary)
    which = ("exactly this version's rules" if summary.get("same_rules")
             else "an earlier draft, not exactly these rules")
    replayed = summary.get("replayed", 0)
    return (f"Replay #{summary.get('trial')}: {replayed} stored question{'s' if replayed != 1 else ''} "
            f"against v{summary.get('compared_with_version')}: {counts}. It replayed {which}.")


def change_counts_words(counts: dict) -> str:
    """A replay's COUNTS by kind of change, in words: "3 newly blocked, 1 newly allowed, ..."."""
    return ", ".join(f"{counts.get(change, 0)} {CHANGE_WORDS[change].lower()}" for change in CHANGES)


def policy_event_rows(action: str, details: dict) -> list[tuple[str, str]] | None:
    """The details of a policy.published, policy.replayed or policy.tested ledger entry as (name,
    text) rows in plain words for the entry page; None for other actions."""
    compared = [("Draft digest", details.get("draft_digest", "")),
                ("Compared with", f"v{details.get('current_version')}")]
    if action == "policy.published":
        return [("Version", f"v{details.get('number')}"), ("Rules digest", details.get("digest", "")),
                ("What changed", published_change_words(details)),
                ("Replay before publishing", replay_summary_words(details.get("last_replay")))]
    if action == "policy.replayed":
        questions = f"{details.get('replayed', 0)} replayed of the last {details.get('asked', 0)} asked"
        if details.get("unreadable"):
            questions += f"; {details['unreadable']} not readable"
        return [*compared, ("Questions", questions),
                ("Result", f"{change_counts_words(details)}, {details.get('unchanged', 0)} unchanged")]
    if action == "policy.tested":
        return [*compared, ("Under the draft", verdict_words(details.get("draft_action", ""))),
                ("Under the version in force", verdict_words(details.get("current_action", "")))]
    return None


def published_change_words(details: dict) -> str:
    """What a policy.published event (its DETAILS) changed: the fields, then each change as the
    version page names it ("entity actions: Payment card number: blocked → kept inside; ..."),
    read from the published version and the one before it."""
    from guardrails.policy_changes import changes_between  # it imports the answering checks

    fields = ", ".join(name.replace("_", " ") for name in details.get("changed", [])) or "nothing"
    number = details.get("number")
    version = PolicyVersion.objects.filter(number=number).first() if isinstance(number, int) else None
    previous = version.previous() if version is not None else None
    if previous is None:
        return fields
    named = [change.what.rstrip(".") for change in changes_between(previous.to_policy(), version.to_policy())]
    return f"{fields}: {'; '.join(named)}" if named else fields
