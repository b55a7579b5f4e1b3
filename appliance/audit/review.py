"""The compliance console's side of the ledger: officers review answer traces, and every look at
the ledger is itself an entry.

- review_trace(): an officer marks an answer reviewed, annotates it or escalates it. A review is
  an entry of its own ("review.<decision>", target the trace), never a change to the answer's
  entry, which the database would refuse anyway. The note is sealed: officers may quote PII.
- Escalations reach a person: "review.escalated" names an `assignee` (another compliance
  officer) or an `assignee_team` (a team, roles.teams(), with the `officers` it reached). Each
  officer it reaches finds it in their inbox (open_escalations()) and, when SMTP is configured,
  gets an e-mail that names only the entry; resolve_escalation() closes it with a sealed note, as
  "review.resolved" naming the `escalation` it resolves. Any officer of the team may resolve a
  team's escalation, except the one who escalated it.
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
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.urls import reverse

from appliance.accounts.roles import Role, has_permission, teams
from appliance.audit.evidence import CSV_COLUMNS, REVIEW_COLUMNS, as_csv, as_jsonl, evidence_bundle, exported_entries
from appliance.audit.models import EntryLabel, LedgerEntry, LedgerHead, SealedPayload
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
    """A review that cannot be recorded; FIELD names the review form's field at fault ("note",
    "assignee", or "decision" for the buttons), so the form can show the message beside it."""

    code = "review_rejected"
    status = 400

    def __init__(self, message: str, field: str = "decision"):
        super().__init__(message)
        self.field = field


TEAM_PREFIX = "team:"  # the escalate form's value for a team is "team:<name>"; no username has a ":"


@dataclass(frozen=True)
class Assignee:
    """Whom an escalation reaches: one compliance officer (USERNAME), or the compliance officers of
    a TEAM (a Django group that is not a role, roles.teams()). OFFICERS are the people told."""

    officers: tuple
    username: str = ""
    team: str = ""

    def as_details(self) -> dict:
        """The escalation entry's details naming the assignee; a team's entry also names the
        officers it reached, since a team's members change."""
        if self.team:
            return {"assignee_team": self.team, "officers": [person.get_username() for person in self.officers]}
        return {"assignee": self.username}


def review_trace(entry: LedgerEntry, officer, decision: str, note: str = "", assignee: str = "",
                 again: bool = False) -> LedgerEntry:
    """Record OFFICER's DECISION ("reviewed", "annotated" or "escalated") on the answer trace
    ENTRY, with an optional NOTE (required to annotate). An escalation names ASSIGNEE, the
    username of another compliance officer or "team:<name>" of a team with officers, who are told
    (notify_assignees). An answer already marked reviewed is marked again only when AGAIN (the
    officer chose "Review again"): two officers must not review it twice without knowing. Returns
    the review's entry; raises ReviewRejected for anything else."""
    note, assignee = note.strip(), assignee.strip()
    if not entry.is_answer_trace:
        raise ReviewRejected(
            f"Entry #{entry.seq} is not an answer trace: only answers, refusals and blocks are reviewed.")
    if decision not in DECISIONS:
        raise ReviewRejected(f"“{decision}” is not a review decision: choose reviewed, annotated or escalated.")
    if decision == ANNOTATED and not note:
        raise ReviewRejected("Write a note to annotate this answer: an annotation without a note records nothing.",
                             "note")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewRejected(f"The note is {len(note)} characters long; shorten it to {MAX_NOTE_CHARS} or fewer.",
                             "note")
    sealed = {"note": note} if note else None
    if decision == REVIEWED:
        with transaction.atomic():
            # Taken before looking, so two officers pressing "Mark reviewed" at once are ordered:
            # the second one sees the first one's review (recording.append_entry takes it too).
            LedgerHead.objects.select_for_update().filter(pk=1).first()
            earlier = last_decision(entry, "review.reviewed")
            if earlier is not None and not again:
                raise ReviewRejected(
                    f"Entry #{entry.seq} was already marked reviewed by {earlier.actor_name} on "
                    f"{earlier.at:%Y-%m-%d %H:%M} UTC. To add your own review, press “Review again”.")
            return record_event("review.reviewed", officer, ("trace", entry.target_id), seq=entry.seq, sealed=sealed)
    if decision == ANNOTATED:
        return record_event("review.annotated", officer, ("trace", entry.target_id), seq=entry.seq, sealed=sealed)
    reached = assignee_named(assignee, officer)
    escalation = record_event("review.escalated", officer, ("trace", entry.target_id), seq=entry.seq,
                              sealed=sealed, **reached.as_details())
    notify_assignees(reached, entry)
    return escalation


def last_decision(entry: LedgerEntry, *actions: str) -> LedgerEntry | None:
    """The latest review of ENTRY's trace among ACTIONS (default: the ones that judge it)."""
    return reviews_of(entry).filter(action__in=actions or JUDGING_ACTIONS).last()


def escalation_assignees(officer):
    """The people OFFICER may escalate to: active compliance officers other than OFFICER."""
    return (get_user_model().objects.filter(is_active=True, groups__name=Role.COMPLIANCE.value)
            .exclude(pk=officer.pk).order_by("username").distinct())


def officers_of(team: Group, officer=None):
    """The active compliance officers among TEAM's members, OFFICER (the one escalating) left out."""
    officers = escalation_assignees(officer) if officer is not None else (
        get_user_model().objects.filter(is_active=True, groups__name=Role.COMPLIANCE.value).distinct())
    return officers.filter(pk__in=team.user_set.values("pk"))


def escalation_teams(officer) -> list[tuple[Group, int]]:
    """The teams OFFICER may escalate to, with how many officers each reaches: the teams with
    at least one compliance officer besides OFFICER."""
    counted = [(team, officers_of(team, officer).count()) for team in teams()]
    return [(team, count) for team, count in counted if count]


def escalation_choices(officer) -> list[tuple[str, str]]:
    """(value, label) of each assignee the escalate form offers OFFICER: officers, then teams."""
    people = [(person.get_username(), person.get_username()) for person in escalation_assignees(officer)]
    # The count leaves OFFICER out: "(1 other officer)" for a team of two with OFFICER in it.
    groups = [(f"{TEAM_PREFIX}{team.name}", f"Team: {team.name} ({count} other officer{'s' if count != 1 else ''})")
              for team, count in escalation_teams(officer)]
    return people + groups


def assignee_named(value: str, officer) -> Assignee:
    """The assignee VALUE names (a username, or "team:<name>"), to whom OFFICER escalates;
    raises ReviewRejected."""
    if not value:
        raise ReviewRejected("Choose the officer or team to escalate this answer to: an escalation must reach someone.",
                             "assignee")
    if value.startswith(TEAM_PREFIX):
        name = value.removeprefix(TEAM_PREFIX)
        team = teams().filter(name=name).first()
        officers = tuple(officers_of(team, officer)) if team is not None else ()
        if not officers:
            raise ReviewRejected(f"The team “{name}” has no other compliance officer: escalate to a team that has one.",
                                 "assignee")
        return Assignee(officers, team=name)
    if value == officer.get_username():
        raise ReviewRejected("Escalate to another officer: an escalation to yourself reaches nobody new.", "assignee")
    person = escalation_assignees(officer).filter(username=value).first()
    if person is None or not has_permission(person, "review_traces"):
        raise ReviewRejected(f"“{value}” is not a compliance officer: escalate to one.", "assignee")
    return Assignee((person,), username=value)


def notify_assignees(assignee: Assignee, entry: LedgerEntry) -> None:
    """E-mail each officer ASSIGNEE reaches that the answer ENTRY was escalated, when SMTP is
    configured (EMAIL_HOST) and they have an address; one mail each, so no one learns the others'
    addresses. The mail names only the entry: the question and the note are sealed and stay in the
    appliance. A mail that cannot be sent is logged, not raised: the escalation is recorded and
    waits in the inbox either way."""
    if not settings.EMAIL_HOST:
        return
    path = reverse("ledger-entry", args=[entry.seq])
    whom = "your team" if assignee.team else "you"
    body = (f"An answer was escalated to {whom} for review: ledger entry #{entry.seq}.\n\n"
            f"Open it in the appliance: {path}\n")
    for person in assignee.officers:
        if not person.email:
            continue
        try:
            send_mail(f"Answer escalated to {whom}: ledger entry #{entry.seq}", body, None, [person.email])
        except OSError as error:  # smtplib's errors are OSErrors
            log.warning("The escalation mail for entry #%s to %s was not sent: %s", entry.seq, person.email, error)


def open_escalations(assignee=None) -> QuerySet:
    """The "review.escalated" entries no "review.resolved" has closed, newest first; with
    ASSIGNEE, only the ones assigned to that person or to one of their teams (not the ones they
    escalated to their own team themselves)."""
    resolved = LedgerEntry.objects.filter(action="review.resolved").values_list("details__escalation", flat=True)
    escalations = LedgerEntry.objects.filter(action="review.escalated").exclude(seq__in=list(resolved))
    if assignee is not None:
        their_teams = list(teams().filter(pk__in=assignee.groups.values("pk")).values_list("name", flat=True))
        escalations = escalations.filter(Q(details__assignee=assignee.get_username())
                                         | Q(details__assignee_team__in=their_teams) & ~Q(actor_id=assignee.pk))
    return escalations.order_by("-seq")


def read_inbox(officer) -> list[LedgerEntry]:
    """OFFICER's open escalations (open_escalations), each with its note opened (`note`: None when
    destroyed at the end of retention, "" when there is none) and its answer trace (`trace`, None if
    gone) with its question opened (open_questions). The read is recorded with the escalations and
    the questions shown, as the queue's is."""
    escalations = list(open_escalations(officer).prefetch_related("payloads"))
    traces = {trace.seq: trace for trace in LedgerEntry.objects.filter(
        seq__in=[escalation.details.get("seq") for escalation in escalations]).prefetch_related("labels")}
    shown = open_questions(list(traces.values()))
    for escalation in escalations:
        escalation.trace = traces.get(escalation.details.get("seq"))
        try:
            escalation.note = unsealed(escalation).get("note", "")
        except SealBroken as broken:
            escalation.note = broken.message
    details = {"questions_shown": shown} if shown else {}
    record_ledger_read(officer, "inbox", escalations=[escalation.seq for escalation in escalations], **details)
    return escalations


def assignee_words(escalation: LedgerEntry) -> str:
    """Whom ESCALATION is assigned to, as the officer reads it."""
    team = escalation.details.get("assignee_team")
    return f"the team “{team}”" if team else escalation.details.get("assignee", "")


def resolve_escalation(escalation: LedgerEntry, officer, note: str) -> LedgerEntry:
    """Record that OFFICER, the assignee of ESCALATION (or an officer of its team), resolved it,
    with a NOTE (required, sealed). Returns the "review.resolved" entry; raises ReviewRejected."""
    note = note.strip()
    if escalation.action != "review.escalated":
        raise ReviewRejected(f"Entry #{escalation.seq} is not an escalation.")
    if not open_escalations(officer).filter(pk=escalation.pk).exists():
        if not open_escalations().filter(pk=escalation.pk).exists():
            raise ReviewRejected(f"The escalation of entry #{escalation.details['seq']} is already resolved.")
        if escalation.details.get("assignee_team") and escalation.actor_id == officer.pk:
            raise ReviewRejected(f"You escalated this to {assignee_words(escalation)}: another officer of the team "
                                 "resolves it.")
        if escalation.details.get("assignee_team"):
            raise ReviewRejected(f"Only an officer of {assignee_words(escalation)} can resolve this escalation: "
                                 "it is assigned to them.")
        raise ReviewRejected(
            f"Only {assignee_words(escalation) or 'its assignee'} can resolve this escalation: it is assigned to them.")
    if not note:
        raise ReviewRejected("Write a note to resolve this escalation: say what was decided.", "note")
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewRejected(f"The note is {len(note)} characters long; shorten it to {MAX_NOTE_CHARS} or fewer.",
                             "note")
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


def with_decider(entries: QuerySet) -> QuerySet:
    """ENTRIES annotated with who made the latest decision that judged each answer
    (`decided_by`) and when (`decided_at`); both None when nobody has."""
    judged = (LedgerEntry.objects.filter(target_type="trace", target_id=OuterRef("target_id"),
                                         action__in=JUDGING_ACTIONS).order_by("-seq"))
    return entries.annotate(decided_by=Subquery(judged.values("actor_name")[:1]),
                            decided_at=Subquery(judged.values("at")[:1]))


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
    decision: LedgerEntry | None = None            # the review that judged it last (last_decision)
    reviewed: LedgerEntry | None = None            # its latest "review.reviewed", if any
    reviews: list = field(default_factory=list)    # [(review entry, note or None, note destroyed?)]


def read_entry(officer, seq: int) -> OpenedEntry:
    """Entry SEQ with its sealed fields and review notes opened; the read is recorded. Raises
    LedgerEntry.DoesNotExist."""
    entry = LedgerEntry.objects.prefetch_related("payloads").get(seq=seq)
    record_ledger_read(officer, "entry", seq=seq)
    opened = OpenedEntry(entry, destroyed=destroyed_fields(entry))
    if entry.is_answer_trace:
        opened.review_state = review_state_of(entry)
        opened.decision, opened.reviewed = last_decision(entry), last_decision(entry, "review.reviewed")
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


def export_entries(officer, filters: dict, fmt: str, *, channel: str = "console",
                   with_sealed: bool = True) -> Iterator[str]:
    """The lines of an export (FMT "jsonl" or "csv") of the entries FILTERS select, oldest first,
    each answer with its review (with_reviews); sealed fields and review notes opened when
    WITH_SEALED. The export is recorded before any line is produced, by OFFICER (None for the
    command) through CHANNEL ("console" or "command")."""
    entries = filtered_entries(**filters).order_by("seq")
    with transaction.atomic():
        # Bounded by the ledger's end now, so the count recorded is exactly what is exported
        # (this export's own entry, and any written while it streams, are left out).
        last = LedgerEntry.objects.aggregate(last=Max("seq"))["last"] or 0
        entries = entries.filter(seq__lte=last)
        record_event("ledger.exported", officer, None, format=fmt, filters=described(filters), entries=entries.count(),
                     sealed_fields=with_sealed, channel=channel)
    rows = with_reviews(exported_entries(entries, with_sealed=with_sealed), through_seq=last, with_notes=with_sealed)
    return as_jsonl(rows) if fmt == "jsonl" else as_csv(rows, columns=CSV_COLUMNS + REVIEW_COLUMNS)


def with_reviews(rows: Iterator[dict], *, through_seq: int, with_notes: bool = True,
                 batch: int = 500) -> Iterator[dict]:
    """ROWS (exported entries) with each answer trace's "review" added: its state, who decided it
    (reviewer) and every review ("notes"), as of entry THROUGH_SEQ. Notes are sealed: each is
    opened only WITH_NOTES, and the caller has recorded the export as one that opens sealed fields."""
    key, rows = ledger_key() if with_notes else None, iter(rows)
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
    """REVIEWS (oldest first) as an export shows them, with the state with_review_state() gives;
    each note opened with KEY, or left out (None) without one."""
    decided = [review for review in reviews if review.action in JUDGING_ACTIONS]
    deciding = decided[-1] if decided else (reviews[-1] if reviews else None)
    state = deciding.action.removeprefix("review.") if decided else ANNOTATED if reviews else UNREVIEWED
    notes = [{"seq": review.seq, "at": review.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              "by": review.actor_name, "decision": review.action.removeprefix("review."),
              "note": unsealed(review, key).get("note", "") if key is not None else None} for review in reviews]
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
