"""The compliance console's side of the ledger: officers review answer traces, and every look at
the ledger is itself an entry.

- review_trace(): an officer marks an answer reviewed, annotates it or escalates it. A review is
  an entry of its own ("review.<decision>", target the trace), never a change to the answer's
  entry, which the database would refuse anyway. The note is sealed: officers may quote PII.
- with_review_state(): each answer entry's review state, computed from those entries.
- read_entries_page(), read_entry(), export_entries(), evidence_of(), verify_and_record(): what
  the console shows or hands out, each recorded as "ledger.read", "ledger.exported",
  "ledger.evidence_exported" or "ledger.verified".
"""
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr

from appliance.audit.evidence import as_csv, as_jsonl, evidence_bundle, exported_entries
from appliance.audit.models import EntryLabel, LedgerEntry
from appliance.audit.reading import unsealed
from appliance.audit.recording import record_event
from appliance.audit.sealing import SealBroken
from appliance.audit.verification import VerificationReport
from appliance.audit.watching import watch_chain
from appliance.errors import ApplianceError

REVIEWED, ANNOTATED, ESCALATED, UNREVIEWED = "reviewed", "annotated", "escalated", "unreviewed"
DECISIONS = (REVIEWED, ANNOTATED, ESCALATED)
REVIEW_STATES = (UNREVIEWED, *DECISIONS)
MAX_NOTE_CHARS = 4000
PAGE_SIZE = 50
LABEL_KINDS = ("outcome", "route", "perimeter", "entity", "collection", "model")
EXPORT_FORMATS = {"jsonl": as_jsonl, "csv": as_csv}


class ReviewRejected(ApplianceError):
    code = "review_rejected"
    status = 400


def review_trace(entry: LedgerEntry, officer, decision: str, note: str = "") -> LedgerEntry:
    """Record OFFICER's DECISION ("reviewed", "annotated" or "escalated") on the answer trace
    ENTRY, with an optional NOTE (required to annotate). Returns the review's entry; raises
    ReviewRejected for anything else."""
    note = note.strip()
    if not entry.is_answer_trace:
        raise ReviewRejected(
            f"Entry #{entry.seq} is not an answer trace: only answers, refusals and blocks are reviewed.")
    if decision not in DECISIONS:
        raise ReviewRejected(f"“{decision}” is not a review decision: choose reviewed, annotated or escalated.")
    if decision == ANNOTATED and not note:
        raise ReviewRejected("Write a note to annotate this answer: an annotation without a note records nothing.")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewRejected(f"The note is {len(note)} characters long; shorten it to {MAX_NOTE_CHARS} or fewer.")
    return record_event(f"review.{decision}", officer, ("trace", entry.target_id), seq=entry.seq,
                        sealed={"note": note} if note else None)


def reviews_of(entry: LedgerEntry) -> QuerySet:
    """The review entries of ENTRY's trace, oldest first."""
    return LedgerEntry.objects.filter(target_type="trace", target_id=entry.target_id,
                                      action__startswith="review.").order_by("seq")


def with_review_state(entries: QuerySet) -> QuerySet:
    """ENTRIES annotated with `review_state`: the latest decision that judged the answer
    ("reviewed" or "escalated"); "annotated" when it only has notes; else "unreviewed".
    A note added after an escalation does not hide the escalation."""
    reviews = LedgerEntry.objects.filter(target_type="trace", target_id=OuterRef("target_id"))
    judged = (reviews.filter(action__in=["review.reviewed", "review.escalated"]).order_by("-seq")
              .annotate(decision=Substr("action", len("review.") + 1)).values("decision")[:1])
    annotated = reviews.filter(action="review.annotated").annotate(decision=Value(ANNOTATED)).values("decision")[:1]
    return entries.annotate(review_state=Coalesce(Subquery(judged), Subquery(annotated), Value(UNREVIEWED)))


def review_state_of(entry: LedgerEntry) -> str:
    return with_review_state(LedgerEntry.objects.filter(pk=entry.pk)).values_list("review_state", flat=True).get()


def filtered_entries(*, user: str = "", date_from: date | None = None, date_to: date | None = None, action: str = "",
                     outcome: str = "", route: str = "", perimeter: str = "", entity: str = "", collection: str = "",
                     model: str = "", review_state: str = "") -> QuerySet:
    """Entries newest first, narrowed by each filter given. ACTION ending in "." is a family
    ("answer."); dates are UTC days, both inclusive; outcome to model match the entry's labels."""
    labels = {"outcome": outcome, "route": route, "perimeter": perimeter, "entity": entity, "collection": collection,
              "model": model}
    entries = with_review_state(LedgerEntry.objects.order_by("-seq"))
    if user:
        entries = entries.filter(actor_name=user)
    if date_from:
        entries = entries.filter(at__gte=start_of(date_from))
    if date_to:
        entries = entries.filter(at__lt=start_of(date_to + timedelta(days=1)))
    if action:
        entries = entries.filter(action__startswith=action) if action.endswith(".") else entries.filter(action=action)
    for kind, value in labels.items():
        if value:
            entries = entries.filter(Exists(EntryLabel.objects.filter(entry=OuterRef("pk"), kind=kind, value=value)))
    if review_state:
        entries = entries.filter(action__startswith="answer.", review_state=review_state)
    return entries


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def described(filters: dict) -> dict[str, str]:
    """FILTERS as the ledger records them: the ones given, as text."""
    return {name: str(value) for name, value in filters.items() if value}


def record_ledger_read(officer, what: str, **details) -> LedgerEntry:
    """Record that OFFICER read the ledger: WHAT is "list" (with the filters) or "entry" (with seq)."""
    return record_event("ledger.read", officer, None, what=what, **details)


def read_entries_page(officer, filters: dict, page_number) -> Page:
    """One page (PAGE_SIZE entries, newest first) of the entries FILTERS select; the read is recorded."""
    page = Paginator(filtered_entries(**filters), PAGE_SIZE).get_page(page_number)
    # The page as it was read: without the entry that records this read.
    page.object_list = list(page.object_list)
    record_ledger_read(officer, "list", filters=described(filters), page=page.number)
    return page


@dataclass
class OpenedEntry:
    """An entry as the console shows it: its sealed fields opened, and its reviews' notes."""

    entry: LedgerEntry
    values: dict = field(default_factory=dict)     # {sealed field: value}
    destroyed: set = field(default_factory=set)    # sealed fields destroyed at the end of retention
    problem: str = ""                              # why the sealed fields could not be opened
    review_state: str = ""                         # an answer trace's (with_review_state)
    reviews: list = field(default_factory=list)    # [(review entry, note or None, note destroyed?)]


def read_entry(officer, seq: int) -> OpenedEntry:
    """Entry SEQ with its sealed fields and review notes opened; the read is recorded. Raises
    LedgerEntry.DoesNotExist."""
    entry = LedgerEntry.objects.prefetch_related("payloads").get(seq=seq)
    record_ledger_read(officer, "entry", seq=seq)
    opened = OpenedEntry(entry, destroyed=destroyed_fields(entry))
    if entry.is_answer_trace:
        opened.review_state = review_state_of(entry)
    try:
        opened.values = unsealed(entry)
        reviews = reviews_of(entry).prefetch_related("payloads") if entry.is_answer_trace else []
        for review in reviews:
            note = unsealed(review).get("note")
            opened.reviews.append((review, note, "note" in destroyed_fields(review)))
    except SealBroken as broken:  # shown to the officer: a broken seal is evidence of tampering
        opened.problem = broken.message
    return opened


def destroyed_fields(entry: LedgerEntry) -> set[str]:
    return set(entry.sealed) - {payload.field for payload in entry.payloads.all()}


def export_entries(officer, filters: dict, fmt: str) -> Iterator[str]:
    """The lines of an export (FMT "jsonl" or "csv") of the entries FILTERS select, sealed fields
    opened, oldest first. The export is recorded before any line is produced."""
    entries = filtered_entries(**filters).order_by("seq")
    with transaction.atomic():
        # Bounded by the ledger's end now, so the count recorded is exactly what is exported
        # (this export's own entry, and any written while it streams, are left out).
        last = LedgerEntry.objects.aggregate(last=Max("seq"))["last"] or 0
        entries = entries.filter(seq__lte=last)
        record_event("ledger.exported", officer, None, format=fmt, filters=described(filters), entries=entries.count(),
                     sealed_fields=True, channel="console")
    return EXPORT_FORMATS[fmt](exported_entries(entries, with_sealed=True))


def evidence_of(officer, entry: LedgerEntry, channel: str = "console") -> dict:
    """ENTRY's evidence bundle (evidence.evidence_bundle), its export recorded; CHANNEL says
    through what ("console" or "command"; OFFICER is None for the command)."""
    bundle = evidence_bundle(entry)
    record_event("ledger.evidence_exported", officer, ("trace", entry.target_id), seq=entry.seq, channel=channel)
    return bundle


def verify_and_record(officer) -> VerificationReport:
    """Verify the whole ledger (without the key), keep the result as the chain's state
    (watching.py) and record it as "ledger.verified"."""
    report = watch_chain(whole=True)
    record_event("ledger.verified", officer, None, intact=report.is_intact, entries=report.entries,
                 checkpoints=report.checkpoints, first_problem="" if report.is_intact else report.problems[0].message)
    return report


def known_labels() -> dict[str, list[str]]:
    """{kind: values} the console offers as suggestions in its filters, plus "user"."""
    known = {kind: list(EntryLabel.objects.filter(kind=kind).values_list("value", flat=True).distinct()
                        .order_by("value")[:200]) for kind in LABEL_KINDS}
    known["user"] = list(LedgerEntry.objects.exclude(actor_name="").values_list("actor_name", flat=True).distinct()
                         .order_by("actor_name")[:200])
    return known
