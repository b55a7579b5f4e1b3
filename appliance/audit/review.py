"""The compliance console's side of the ledger: officers review answer traces, and every look at
the ledger is itself an entry.

- review_trace(): an officer marks an answer reviewed, annotates it or escalates it. A review is
  an entry of its own ("review.<decision>", target the trace), never a change to the answer's
  entry, which the database would refuse anyway. The note is sealed: officers may quote PII.
- Escalations reach a person: "review.escalated" names an `assignee` (another compliance
  officer), who finds it in their inbox (open_escalations()) and, when SMTP is configured, gets an
  e-mail that names only the entry; resolve_escalation() closes it with a sealed note, as
  "review.resolved" naming the `escalation` it resolves.
- with_review_state(): each answer entry's review state, computed from those entries.
- read_entries_page(), read_entry(), export_entries(), evidence_of(), verify_and_record(): what
  the console shows or hands out, each recorded as "ledger.read", "ledger.exported",
  "ledger.evidence_exported" or "ledger.verified". A list page opens the sealed question of each
  answer it shows, and its "ledger.read" names them (`questions_shown`); an export carries each
  answer's review state, reviewer and notes.
"""
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.urls import reverse

from appliance.accounts.roles import Role, has_permission
from appliance.audit.evidence import CSV_COLUMNS, REVIEW_COLUMNS, as_csv, as_jsonl, evidence_bundle, exported_entries
from appliance.audit.models import EntryLabel, LedgerEntry, SealedPayload
from appliance.audit.reading import unsealed
from appliance.audit.recording import record_event
from appliance.audit.sealing import SealBroken, ledger_key
from appliance.audit.verification import VerificationReport
from appliance.audit.watching import watch_chain
from appliance.errors import ApplianceError

REVIEWED, ANNOTATED, ESCALATED, UNREVIEWED = "reviewed", "annotated", "escalated", "unreviewed"
RESOLVED = "resolved"
DECISIONS = (REVIEWED, ANNOTATED, ESCALATED)
REVIEW_STATES = (UNREVIEWED, *DECISIONS, RESOLVED)
# The reviews that judge an answer: its review state is the latest of these (with_review_state).
JUDGING_ACTIONS = ("review.reviewed", "review.escalated", "review.resolved")
MAX_NOTE_CHARS = 4000
PAGE_SIZE = 50
LABEL_KINDS = ("outcome", "route", "perimeter", "entity", "collection", "model")
EXPORT_FORMATS = ("jsonl", "csv")

log = logging.getLogger(__name__)


class ReviewRejected(ApplianceError):
    code = "review_rejected"
    status = 400


def review_trace(entry: LedgerEntry, officer, decision: str, note: str = "", assignee: str = "") -> LedgerEntry:
    """Record OFFICER's DECISION ("reviewed", "annotated" or "escalated") on the answer trace
    ENTRY, with an optional NOTE (required to annotate). An escalation names ASSIGNEE, the
    username of another compliance officer, who is told (notify_assignee). Returns the review's
    entry; raises ReviewRejected for anything else."""
    note, assignee = note.strip(), assignee.strip()
    if not entry.is_answer_trace:
        raise ReviewRejected(
            f"Entry #{entry.seq} is not an answer trace: only answers, refusals and blocks are reviewed.")
    if decision not in DECISIONS:
        raise ReviewRejected(f"“{decision}” is not a review decision: choose reviewed, annotated or escalated.")
    if decision == ANNOTATED and not note:
        raise ReviewRejected("Write a note to annotate this answer: an annotation without a note records nothing.")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewRejected(f"The note is {len(note)} characters long; shorten it to {MAX_NOTE_CHARS} or fewer.")
    if decision != ESCALATED:
        return record_event(f"review.{decision}", officer, ("trace", entry.target_id), seq=entry.seq,
                            sealed={"note": note} if note else None)
    person = assignee_named(assignee, officer)
    escalation = record_event("review.escalated", officer, ("trace", entry.target_id), seq=entry.seq,
                              assignee=person.get_username(), sealed={"note": note} if note else None)
    notify_assignee(person, entry)
    return escalation


def escalation_assignees(officer):
    """The people OFFICER may escalate to: active compliance officers other than OFFICER."""
    return (get_user_model().objects.filter(is_active=True, groups__name=Role.COMPLIANCE.value)
            .exclude(pk=officer.pk).order_by("username").distinct())


def assignee_named(username: str, officer):
    """The compliance officer USERNAME, to whom OFFICER escalates; raises ReviewRejected."""
    if not username:
        raise ReviewRejected("Choose the officer to escalate this answer to: an escalation must reach someone.")
    if username == officer.get_username():
        raise ReviewRejected("Escalate to another officer: an escalation to yourself reaches nobody new.")
    person = escalation_assignees(officer).filter(username=username).first()
    if person is None or not has_permission(person, "review_traces"):
        raise ReviewRejected(f"“{username}” is not a compliance officer: escalate to one.")
    return person


def notify_assignee(person, entry: LedgerEntry) -> None:
    """E-mail PERSON that the answer ENTRY was escalated to them, when SMTP is configured
    (EMAIL_HOST) and they have an address. The mail names only the entry: the question and the
    note are sealed and stay in the appliance. A mail that cannot be sent is logged, not raised:
    the escalation is recorded and waits in the inbox either way."""
    if not settings.EMAIL_HOST or not person.email:
        return
    path = reverse("ledger-entry", args=[entry.seq])
    body = (f"An answer was escalated to you for review: ledger entry #{entry.seq}.\n\n"
            f"Open it in the appliance: {path}\n")
    try:
        send_mail(f"Answer escalated to you: ledger entry #{entry.seq}", body, None, [person.email])
    except OSError as error:  # smtplib's errors are OSErrors
        log.warning("The escalation mail for entry #%s to %s was not sent: %s", entry.seq, person.email, error)


def open_escalations(assignee=None) -> QuerySet:
    """The "review.escalated" entries no "review.resolved" has closed, newest first; with
    ASSIGNEE, only the ones assigned to that person."""
    resolved = LedgerEntry.objects.filter(action="review.resolved").values_list("details__escalation", flat=True)
    escalations = LedgerEntry.objects.filter(action="review.escalated").exclude(seq__in=list(resolved))
    if assignee is not None:
        escalations = escalations.filter(details__assignee=assignee.get_username())
    return escalations.order_by("-seq")


def resolve_escalation(escalation: LedgerEntry, officer, note: str) -> LedgerEntry:
    """Record that OFFICER, the assignee of ESCALATION, resolved it, with a NOTE (required,
    sealed). Returns the "review.resolved" entry; raises ReviewRejected."""
    note = note.strip()
    if escalation.action != "review.escalated":
        raise ReviewRejected(f"Entry #{escalation.seq} is not an escalation.")
    assignee = escalation.details.get("assignee", "")
    if assignee != officer.get_username():
        raise ReviewRejected(f"Only {assignee or 'its assignee'} can resolve this escalation: it is assigned to them.")
    if not open_escalations().filter(pk=escalation.pk).exists():
        raise ReviewRejected(f"The escalation of entry #{escalation.details['seq']} is already resolved.")
    if not note:
        raise ReviewRejected("Write a note to resolve this escalation: say what was decided.")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewRejected(f"The note is {len(note)} characters long; shorten it to {MAX_NOTE_CHARS} or fewer.")
    return record_event("review.resolved", officer, (escalation.target_type, escalation.target_id),
                        seq=escalation.details["seq"], escalation=escalation.seq, sealed={"note": note})


def inbox_context(request) -> dict:
    """Template context: how many open escalations wait for the signed-in officer (the navigation)."""
    if not has_permission(request.user, "review_traces"):
        return {}
    return {"inbox_count": open_escalations(request.user).count()}


def reviews_of(entry: LedgerEntry) -> QuerySet:
    """The review entries of ENTRY's trace, oldest first."""
    return LedgerEntry.objects.filter(target_type="trace", target_id=entry.target_id,
                                      action__startswith="review.").order_by("seq")


def with_review_state(entries: QuerySet) -> QuerySet:
    """ENTRIES annotated with `review_state`: the latest decision that judged the answer
    ("reviewed", "escalated" or "resolved"); "annotated" when it only has notes; else "unreviewed".
    A note added after an escalation does not hide the escalation."""
    reviews = LedgerEntry.objects.filter(target_type="trace", target_id=OuterRef("target_id"))
    judged = (reviews.filter(action__in=JUDGING_ACTIONS).order_by("-seq")
              .annotate(decision=Substr("action", len("review.") + 1)).values("decision")[:1])
    annotated = reviews.filter(action="review.annotated").annotate(decision=Value(ANNOTATED)).values("decision")[:1]
    return entries.annotate(review_state=Coalesce(Subquery(judged), Subquery(annotated), Value(UNREVIEWED)))


def review_state_of(entry: LedgerEntry) -> str:
    return with_review_state(LedgerEntry.objects.filter(pk=entry.pk)).values_list("review_state", flat=True).get()


def filtered_entries(*, user: str = "", date_from: date | None = None, date_to: date | None = None, action: str = "",
                     outcome: str = "", route: str = "", perimeter: str = "", entity: str = "", collection: str = "",
                     model: str = "", review_state: str = "") -> QuerySet:
    """Entries newest first, narrowed by each filter given. ACTION ending in "." is a family
    ("answer."); DATE_FROM and DATE_TO are UTC days or (datetime) seconds, both inclusive; outcome
    to model match the entry's labels."""
    labels = {"outcome": outcome, "route": route, "perimeter": perimeter, "entity": entity, "collection": collection,
              "model": model}
    entries = with_review_state(LedgerEntry.objects.order_by("-seq"))
    if user:
        entries = entries.filter(actor_name=user)
    if date_from:
        entries = entries.filter(at__gte=date_from if isinstance(date_from, datetime) else start_of(date_from))
    if date_to:  # through the end of the day, or of the second the list shows
        entries = entries.filter(at__lt=date_to + timedelta(seconds=1) if isinstance(date_to, datetime)
                                 else start_of(date_to + timedelta(days=1)))
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
    return {name: f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else str(value)
            for name, value in filters.items() if value}


def record_ledger_read(officer, what: str, **details) -> LedgerEntry:
    """Record that OFFICER read the ledger: WHAT is "list" (with the filters) or "entry" (with seq)."""
    return record_event("ledger.read", officer, None, what=what, **details)


@dataclass(frozen=True)
class FoldedReads:
    """The viewing officer's own "ledger.read" entries of one UTC day, shown as one line."""

    day: date
    count: int
    newest_seq: int
    is_folded = True  # tells it from an entry in the list's rows


def read_entries_page(officer, filters: dict, page_number, *, fold_own_reads: bool = True) -> Page:
    """One page (PAGE_SIZE entries, newest first) of the entries FILTERS select; the read is
    recorded, with the answer traces whose question the page shows (`questions_shown`).

    The page also carries `rows`: its entries, with (FOLD_OWN_READS) OFFICER's own reads left out
    and folded into one FoldedReads line per day, placed where that day's newest read falls;
    `folded_count` is how many reads are folded in all. Each answer trace gets `question` (the
    sealed question, opened) and `question_missing` (why it is not shown)."""
    entries = filtered_entries(**filters)
    own_reads = entries.filter(action="ledger.read", actor_id=officer.pk)
    if fold_own_reads:
        entries = entries.exclude(action="ledger.read", actor_id=officer.pk)
    page = Paginator(entries.prefetch_related("labels"), PAGE_SIZE).get_page(page_number)
    # The page as it was read: without the entry that records this read.
    page.object_list = list(page.object_list)
    folded = folded_reads(own_reads, page, entries) if fold_own_reads else []
    page.folded_count = sum(line.count for line in folded_reads(own_reads)) if fold_own_reads else 0
    page.rows = sorted([*page.object_list, *folded], key=lambda row: getattr(row, "seq", None) or row.newest_seq,
                       reverse=True)
    shown = open_questions(page.object_list)
    details = {"questions_shown": shown} if shown else {}
    record_ledger_read(officer, "list", filters=described(filters), page=page.number, **details)
    return page


def folded_reads(own_reads: QuerySet, page: Page | None = None, listed: QuerySet | None = None) -> list[FoldedReads]:
    """OWN_READS as one line per UTC day, newest first; with PAGE, only the days whose newest read
    falls between PAGE's rows and the next page's (LISTED: the entries paged), so each day's line
    shows on exactly one page."""
    days = (LedgerEntry.objects.filter(pk__in=own_reads.values("pk")).annotate(day=TruncDate("at", tzinfo=UTC))
            .values("day").annotate(count=Count("pk"), newest_seq=Max("seq")).order_by("-newest_seq"))
    lines = [FoldedReads(**day) for day in days]
    if page is None:
        return lines
    rows = page.object_list
    above = listed[page.start_index() - 2].seq if page.has_previous() else None
    below = rows[-1].seq if rows and page.has_next() else 0
    return [line for line in lines if below < line.newest_seq and (above is None or line.newest_seq < above)]


def open_questions(entries: list[LedgerEntry]) -> list[int]:
    """Open the sealed question of each answer trace among ENTRIES into `entry.question`; a
    question not shown says why in `entry.question_missing`. Returns the seqs of the questions
    opened, newest first: what the caller must record as read."""
    traces = [entry for entry in entries if entry.is_answer_trace]
    payloads = {payload.entry_id: bytes(payload.ciphertext)
                for payload in SealedPayload.objects.filter(entry__in=traces, field="question")}
    key, shown = ledger_key(), []
    for entry in traces:
        entry.question, entry.question_missing = None, ""
        if "question" not in entry.sealed:
            entry.question_missing = "no question recorded"
        elif entry.pk not in payloads:
            entry.question_missing = "destroyed at the end of the retention period"
        else:
            try:
                entry.question = key.open(entry.seq, "question", payloads[entry.pk], entry.sealed["question"])
                shown.append(entry.seq)
            except SealBroken as broken:
                entry.question_missing = broken.message
    return shown


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
    rows = with_reviews(exported_entries(entries, with_sealed=True), through_seq=last)
    return as_jsonl(rows) if fmt == "jsonl" else as_csv(rows, columns=CSV_COLUMNS + REVIEW_COLUMNS)


def with_reviews(rows: Iterator[dict], *, through_seq: int, batch: int = 500) -> Iterator[dict]:
    """ROWS (exported entries) with each answer trace's "review" added: its state, who decided it
    (reviewer) and every review with its note opened ("notes"), as of entry THROUGH_SEQ. Notes are
    sealed: the caller has recorded the export as one that opens sealed fields."""
    key, rows = ledger_key(), iter(rows)
    while chunk := list(islice(rows, batch)):
        traces = [row["target_id"] for row in chunk if row["action"].startswith("answer.")]
        reviews = defaultdict(list)
        for review in (LedgerEntry.objects.filter(target_type="trace", target_id__in=traces, action__startswith="review.",
                                                  seq__lte=through_seq).order_by("seq").prefetch_related("payloads")):
            reviews[review.target_id].append(review)
        for row in chunk:
            if row["action"].startswith("answer."):
                row["review"] = review_summary(reviews[row["target_id"]], key)
            yield row


def review_summary(reviews: list[LedgerEntry], key) -> dict:
    """REVIEWS (oldest first) as an export shows them, with the state with_review_state() gives."""
    decided = [review for review in reviews if review.action in JUDGING_ACTIONS]
    deciding = decided[-1] if decided else (reviews[-1] if reviews else None)
    state = deciding.action.removeprefix("review.") if decided else ANNOTATED if reviews else UNREVIEWED
    notes = [{"seq": review.seq, "at": review.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              "by": review.actor_name, "decision": review.action.removeprefix("review."),
              "note": unsealed(review, key).get("note", "")} for review in reviews]
    return {"state": state, "reviewer": deciding.actor_name if deciding else "", "notes": notes}


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
