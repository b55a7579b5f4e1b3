"""The officer's review queue: the answer traces that need a look, in one order the list, the
entry page's place ("Item 2 of 11"), Previous and Next all share (queue_items):

- urgent first: blocked questions, personal data in the question that the policy acts on (not a
  date or a place it only reports), denied topics (near misses too), escalations assigned to the
  officer or their team (is_urgent); then the rest; each newest first;
- an item handled today (marked reviewed or escalated) keeps its place, shown as handled, so the
  officer can step back to it; items handled before today are listed last.

An answer needs a look when an output check failed or withheld part of it, when the analyst got
quotes only or "not in the documents", when its route carried data above public (it was kept
inside the perimeter), or when it was blocked or refused. An item is still to review while its
review state (review.with_review_state) is "unreviewed" or "annotated": a note alone judges
nothing.

An escalation assigned to the officer viewing the queue, or to one of their teams
(review.open_escalations), puts its answer in the kind "assigned", and keeps it open for them until
it is resolved, whatever its review state.

flags_of() says on each row why it is in the queue and why it is urgent, from the recorded
screening findings and route. read_queue_page() records the look as a "ledger.read" (what "queue")
naming the questions shown, as the ledger list does.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from appliance.audit.models import EntryLabel, LedgerEntry
from appliance.audit.review import (ANNOTATED, JUDGING_ACTIONS, UNREVIEWED, open_escalations, open_questions,
                                    record_ledger_read, with_decider, with_review_state)
from appliance.plain_words import check_failure_words, finding_words, kept_inside_words

# Each kind's name as the officer reads it, in the order the counts show.
KINDS = {
    "check_failed": "Output check failed",
    "quoted": "Quotes only",
    "not_found": "Not in the documents",
    "sensitive": "Sensitive data",
    "blocked": "Blocked",
    "refused": "Refused",
    "assigned": "Assigned to me or my team",
}
ALL = "all"  # the queue unfiltered, as the entry page's ?queue= names it
OPEN_STATES = (UNREVIEWED, ANNOTATED)
PAGE_SIZE = 50
# The order, as the queue page states it.
ORDER_WORDS = ("Urgent first: blocked questions, personal data in the question, denied topics (near misses too) "
               "and escalations to you or your team; then the rest; each newest first. An item handled today keeps "
               "its place, marked handled; items handled before today are listed last.")


@dataclass(frozen=True)
class QueueItem:
    seq: int
    kinds: tuple[str, ...]  # keys of KINDS, in KINDS' order
    review_state: str
    urgent: bool = False  # is_urgent
    handled_before_today: bool = False  # handled, and judged before today (UTC)

    @property
    def is_open(self) -> bool:
        return self.review_state in OPEN_STATES or "assigned" in self.kinds

    @property
    def order(self) -> tuple:
        """The item's place in the queue (smaller first)."""
        return (self.handled_before_today and not self.is_open, not self.urgent, -self.seq)


URGENT_KINDS = ("blocked", "assigned")
ACTS = ("block", "sensitive")  # finding actions that change what happens to the question; "report" does not


def urgent_findings(findings: list | None) -> list[dict]:
    """The screening FINDINGS that make an item urgent: personal data the policy blocks or keeps
    inside, and any denied-topic finding (a near miss is reported only, and still worth a look)."""
    return [finding for finding in findings or []
            if finding.get("detector") == "denied_topic"
            or finding.get("detector") == "pii" and finding.get("action") in ACTS]


def is_urgent(kinds: tuple[str, ...], findings: list | None) -> bool:
    """Whether an item with KINDS and screening FINDINGS (its trace's verdict) comes before the
    routine ones ("Sensitive data", "Output check failed", quotes only...). A finding the policy
    only reports (a date, a place) does not make it urgent."""
    return any(kind in kinds for kind in URGENT_KINDS) or bool(urgent_findings(findings))


def kinds_of(outcome: str, sensitivity: str | None, checks: list | None) -> tuple[str, ...]:
    """Why an answer with OUTCOME, route SENSITIVITY (None when not routed) and output CHECKS
    needs a look: keys of KINDS but "assigned" (queue_items adds it); () when it does not."""
    found = {
        "check_failed": any(not check.get("passed") for check in checks or []),
        "quoted": outcome == "quoted",
        "not_found": outcome == "not_found",
        "sensitive": sensitivity not in (None, "", "public"),
        "blocked": outcome == "blocked",
        "refused": outcome == "refused",
    }
    return tuple(kind for kind in KINDS if found.get(kind))


@dataclass(frozen=True)
class Flag:
    words: str
    urgent: bool = False


def joined(parts: list[str]) -> str:
    return "; ".join(dict.fromkeys(parts))


def flags_of(details: dict, kinds: tuple[str, ...]) -> list[Flag]:
    """Why an answer trace (its DETAILS) with KINDS is in the queue, in plain words, the urgent
    reasons first: what blocked it, personal data in the question, a denied topic, an escalation,
    a failed output check, and why its data was kept inside the perimeter."""
    findings = (details.get("verdict") or {}).get("findings") or []
    route = details.get("route") or {}
    flags = []
    if "blocked" in kinds:
        blocking = [finding_words(finding) for finding in findings if finding.get("action") == "block"]
        flags.append(Flag(f"Blocked: {joined(blocking)}" if blocking else "Blocked at screening", True))
    personal = [finding_words(finding) for finding in urgent_findings(findings)
                if finding.get("detector") == "pii" and finding.get("action") != "block"]
    if personal:
        flags.append(Flag(f"Personal data in the question: {joined(personal)}", True))
    for finding in urgent_findings(findings):
        if finding.get("detector") == "denied_topic" and finding.get("action") != "block":
            near = "Near miss of a denied topic" if finding.get("action") == "report" else "Denied topic"
            flags.append(Flag(f"{near}: {finding.get('type', '')}", True))
    if "assigned" in kinds:
        flags.append(Flag("Escalated to you or your team", True))
    for check in details.get("output_checks") or []:
        if not check.get("passed"):
            flags.append(Flag(f"Output check failed: {check_failure_words(check.get('name', ''))}"))
    if "sensitive" in kinds:
        why = [words for words in kept_inside_words(route.get("sources") or {})
               if not (personal and words == "personal data in the question")]
        if why or not personal:
            flags.append(Flag(f"Sensitive data: {joined(why) if why else route.get('sensitivity', '')}"))
    return flags


def start_of_today() -> datetime:
    return datetime.combine(timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)


def queue_items(kind: str = ALL, officer=None) -> list[QueueItem]:
    """The queue (of KIND, or every kind for ALL) as OFFICER sees it (the "assigned" kind is
    theirs), in its order (QueueItem.order; the module's docstring). Reads only plain details and
    labels: nothing sealed is opened."""
    assigned = set(open_escalations(officer).values_list("target_id", flat=True)) if officer is not None else set()
    outcome_label = EntryLabel.objects.filter(entry=OuterRef("pk"), kind="outcome").values("value")[:1]
    judged_at = (LedgerEntry.objects.filter(target_type="trace", target_id=OuterRef("target_id"),
                                            action__in=JUDGING_ACTIONS).order_by("-seq").values("at")[:1])
    rows = (with_review_state(LedgerEntry.objects.filter(action__startswith="answer."))
            .annotate(outcome_label=Subquery(outcome_label), judged_at=Subquery(judged_at))
            .values_list("seq", "action", "details__outcome", "outcome_label", "details__route__sensitivity",
                         "details__output_checks", "review_state", "target_id", "details__verdict__findings",
                         "judged_at"))
    today = start_of_today()
    items = []
    for seq, action, outcome, label, sensitivity, checks, state, trace_id, findings, judged in rows:
        # Older traces carry the outcome only as a label, or only in the action.
        kinds = kinds_of(outcome or label or action.removeprefix("answer."), sensitivity, checks)
        kinds += ("assigned",) if trace_id in assigned else ()
        if kinds and (kind == ALL or kind in kinds):
            items.append(QueueItem(seq, kinds, state, is_urgent(kinds, findings),
                                   handled_before_today=judged is not None and judged < today))
    return sorted(items, key=lambda item: item.order)


def open_counts(items: list[QueueItem]) -> dict[str, int]:
    """{kind: items of that kind still to review}, every kind of KINDS; an item counts once per kind."""
    return {kind: sum(1 for item in items if item.is_open and kind in item.kinds) for kind in KINDS}


def kind_counts(items: list[QueueItem]) -> list[tuple[str, str, int, int]]:
    """(kind, name, still to review, listed) for ALL then each kind of KINDS, as the queue's filter
    links show them: the list of a kind holds its handled items too, so the links say both when
    they differ ("Blocked 2 to review of 3")."""
    counts = open_counts(items)
    rows = [(ALL, "All", sum(1 for item in items if item.is_open), len(items))]
    return rows + [(kind, words, counts[kind], sum(1 for item in items if kind in item.kinds))
                   for kind, words in KINDS.items()]


def neighbours(items: list[QueueItem], seq: int) -> tuple[int | None, int | None]:
    """The seqs before and after SEQ in ITEMS (None at either end, or both when SEQ is not in it)."""
    seqs = [item.seq for item in items]
    if seq not in seqs:
        return None, None
    at = seqs.index(seq)
    return (seqs[at - 1] if at > 0 else None), (seqs[at + 1] if at + 1 < len(seqs) else None)


def next_open_after(items: list[QueueItem], seq: int) -> int | None:
    """The open item to take up after SEQ: the first open one after SEQ in ITEMS' order, else the
    first open one before it (the ones the officer skipped), never SEQ itself; None when nothing
    is left to review."""
    seqs = [item.seq for item in items]
    at = seqs.index(seq) if seq in seqs else -1
    after = [item.seq for item in items[at + 1:] if item.is_open]
    before = [item.seq for item in items[:max(at, 0)] if item.is_open and item.seq != seq]
    return (after or before or [None])[0]


def position(items: list[QueueItem], seq: int) -> int | None:
    """SEQ's place in ITEMS, as the list shows them (1 for the first row); None if not in it."""
    seqs = [item.seq for item in items]
    return seqs.index(seq) + 1 if seq in seqs else None


def read_queue_page(officer, kind: str, page_number) -> tuple[Page, list[QueueItem]]:
    """One page of the queue of KIND, and the whole queue (every kind) for the counts. The page's
    `object_list` is its answer entries, each with `queue_kinds`, `urgent`, `flags` (flags_of), who
    judged it last and when (review.with_decider), its question opened (review.open_questions); the
    read is recorded with the questions shown."""
    everything = queue_items(officer=officer)
    items = everything if kind == ALL else [item for item in everything if kind in item.kinds]
    page = Paginator(items, PAGE_SIZE).get_page(page_number)
    entries = with_decider(LedgerEntry.objects.filter(seq__in=[item.seq for item in page.object_list])
                           ).prefetch_related("labels")
    by_seq = {entry.seq: entry for entry in entries}
    for item in page.object_list:
        entry = by_seq[item.seq]
        entry.queue_kinds, entry.review_state, entry.urgent = item.kinds, item.review_state, item.urgent
        entry.flags = flags_of(entry.details, item.kinds)
    page.object_list = [by_seq[item.seq] for item in page.object_list]
    shown = open_questions(page.object_list)
    details = {"questions_shown": shown} if shown else {}
    record_ledger_read(officer, "queue", kind=kind, page=page.number, **details)
    return page, everything
