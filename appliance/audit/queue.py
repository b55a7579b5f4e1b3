"""The officer's review queue: the answer traces that need a look, the ones still to review first;
among them the urgent ones first (blocked, personal data found in the question, a near miss of a
denied topic, or an escalation assigned to the officer), then the routine ones; each newest first.

An answer needs a look when an output check failed or withheld part of it, when the analyst got
quotes only or "not in the documents", when its route carried data above public (it was kept
inside the perimeter), or when it was blocked or refused. An item is still to review while its
review state (review.with_review_state) is "unreviewed" or "annotated": a note alone judges
nothing. Marking it reviewed or escalating it moves it behind the open items; it stays listed.

An escalation assigned to the officer viewing the queue, or to one of their teams
(review.open_escalations), puts its answer in the kind "assigned", and keeps it open for them until
it is resolved, whatever its review state.

read_queue_page() records the look as a "ledger.read" (what "queue") naming the questions shown,
as the ledger list does.
"""
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Subquery

from appliance.audit.models import EntryLabel, LedgerEntry
from appliance.audit.review import (ANNOTATED, UNREVIEWED, open_escalations, open_questions, record_ledger_read,
                                    with_decider, with_review_state)

# Each kind's name as the officer reads it, in the order the counts show.
KINDS = {
    "check_failed": "Output check failed",
    "quoted": "Quotes only",
    "not_found": "Not in the documents",
    "sensitive": "Kept inside: sensitive",
    "blocked": "Blocked",
    "refused": "Refused",
    "assigned": "Assigned to me or my team",
}
ALL = "all"  # the queue unfiltered, as the entry page's ?queue= names it
OPEN_STATES = (UNREVIEWED, ANNOTATED)
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueItem:
    seq: int
    kinds: tuple[str, ...]  # keys of KINDS, in KINDS' order
    review_state: str
    urgent: bool = False  # is_urgent

    @property
    def is_open(self) -> bool:
        return self.review_state in OPEN_STATES or "assigned" in self.kinds

    @property
    def rank(self) -> tuple:
        """Where the item stands among the open ones: urgent first, then newest first."""
        return (not self.urgent, -self.seq)


URGENT_KINDS = ("blocked", "assigned")
URGENT_DETECTORS = ("pii", "denied_topic")  # personal data in the question; a denied topic, even a near miss


def is_urgent(kinds: tuple[str, ...], findings: list | None) -> bool:
    """Whether an item with KINDS and screening FINDINGS (its trace's verdict) comes before the
    routine ones ("Kept inside", "Output check failed", quotes only...)."""
    return (any(kind in kinds for kind in URGENT_KINDS)
            or any(finding.get("detector") in URGENT_DETECTORS for finding in findings or []))


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


def queue_items(kind: str = ALL, officer=None) -> list[QueueItem]:
    """The queue (of KIND, or every kind for ALL) as OFFICER sees it (the "assigned" kind is
    theirs): open items first, urgent ones (is_urgent) before routine ones, then the handled ones;
    each newest first. Reads only plain
    details and labels: nothing sealed is opened."""
    assigned = set(open_escalations(officer).values_list("target_id", flat=True)) if officer is not None else set()
    outcome_label = EntryLabel.objects.filter(entry=OuterRef("pk"), kind="outcome").values("value")[:1]
    rows = (with_review_state(LedgerEntry.objects.filter(action__startswith="answer."))
            .annotate(outcome_label=Subquery(outcome_label))
            .values_list("seq", "action", "details__outcome", "outcome_label", "details__route__sensitivity",
                         "details__output_checks", "review_state", "target_id", "details__verdict__findings"))
    items = []
    for seq, action, outcome, label, sensitivity, checks, state, trace_id, findings in rows:
        # Older traces carry the outcome only as a label, or only in the action.
        kinds = kinds_of(outcome or label or action.removeprefix("answer."), sensitivity, checks)
        kinds += ("assigned",) if trace_id in assigned else ()
        if kinds and (kind == ALL or kind in kinds):
            items.append(QueueItem(seq, kinds, state, is_urgent(kinds, findings)))
    return sorted(items, key=lambda item: (not item.is_open, *item.rank))


def open_counts(items: list[QueueItem]) -> dict[str, int]:
    """{kind: items of that kind still to review}, every kind of KINDS; an item counts once per kind."""
    return {kind: sum(1 for item in items if item.is_open and kind in item.kinds) for kind in KINDS}


def neighbours(items: list[QueueItem], seq: int) -> tuple[int | None, int | None]:
    """The seqs before and after SEQ in ITEMS (None at either end, or both when SEQ is not in it)."""
    seqs = [item.seq for item in items]
    if seq not in seqs:
        return None, None
    at = seqs.index(seq)
    return (seqs[at - 1] if at > 0 else None), (seqs[at + 1] if at + 1 < len(seqs) else None)


def next_open_after(items: list[QueueItem], seq: int) -> int | None:
    """The open item to take up after SEQ: the next one in the queue's order of open items (ITEMS,
    urgent first), else the first one (the ones the officer skipped), never SEQ itself; None when
    nothing is left to review."""
    waiting = [item for item in items if item.is_open and item.seq != seq]
    at = next((item.rank for item in items if item.seq == seq), (False, -seq))
    return next((item.seq for item in waiting if item.rank > at), waiting[0].seq if waiting else None)


def position(items: list[QueueItem], seq: int) -> int | None:
    """SEQ's place in ITEMS counting the handled ones as done first: reviewing an item advances the
    place of the next one ("Item 2 of 29"), though handled items are listed last. None if not in it."""
    ordered = [item.seq for item in items if not item.is_open] + [item.seq for item in items if item.is_open]
    return ordered.index(seq) + 1 if seq in ordered else None


def read_queue_page(officer, kind: str, page_number) -> tuple[Page, list[QueueItem]]:
    """One page of the queue of KIND, and the whole queue (every kind) for the counts. The page's
    `object_list` is its answer entries, each with `queue_kinds`, who judged it last and when
    (review.with_decider), its question opened
    (review.open_questions); the read is recorded with the questions shown."""
    everything = queue_items(officer=officer)
    items = everything if kind == ALL else [item for item in everything if kind in item.kinds]
    page = Paginator(items, PAGE_SIZE).get_page(page_number)
    entries = with_decider(LedgerEntry.objects.filter(seq__in=[item.seq for item in page.object_list])
                           ).prefetch_related("labels")
    by_seq = {entry.seq: entry for entry in entries}
    for item in page.object_list:
        by_seq[item.seq].queue_kinds = item.kinds
        by_seq[item.seq].review_state = item.review_state
    page.object_list = [by_seq[item.seq] for item in page.object_list]
    shown = open_questions(page.object_list)
    details = {"questions_shown": shown} if shown else {}
    record_ledger_read(officer, "queue", kind=kind, page=page.number, **details)
    return page, everything
