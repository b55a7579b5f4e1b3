"""Verifying the ledger: `manage.py audit verify`, the watcher (watching.py), checkpoints and the
console's chain badge.

Every stored byte is checked:

1. entries are numbered 1, 2, 3, ... with no gap (a removed entry leaves one);
2. each entry's hash is the hash of its body, labels included (a changed column or label
   changes it);
3. each entry's MAC holds under the MAC key, which the database never holds (an entry edited or
   appended by someone with only the database, even with every later hash recomputed, fails);
   entries written before MACs form a prefix: a MAC-less entry after one with a MAC is refused;
4. each entry names the hash of the entry before it (an entry inserted, removed or moved breaks
   the link);
5. each sealed payload hashes to the digest its entry committed to (a changed byte of
   ciphertext); a payload may be missing only if a retention entry says it was destroyed;
6. every signed checkpoint's root is the Merkle root of that many first entries (history
   rewritten with fresh hashes), and none covers more entries than the ledger has (a cut tail).

With the ledger key (deep=True), each payload is also opened and matched against its commitment.
Entries are read in batches by sequence number, so memory stays flat at a million entries.

A run may start from a Position: the end of a signed checkpoint an earlier run verified (its
size, the entry hash there and the Merkle frontier there). It then reads only the entries after
it and the checkpoint lines after the one it names; that is how the watcher stays incremental.
"""
import json
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection

from appliance.audit.chain import GENESIS, ciphertext_digest, entry_hash, labels_body, leaf_of, mac_holds
from appliance.audit.checkpoints import Checkpoint, read_checkpoints
from appliance.audit.merkle import MerkleFrontier, tree_root
from appliance.audit.models import EntryLabel, LedgerEntry, LedgerHead, SealedPayload
from appliance.audit.recording import entry_body, mac_key
from appliance.audit.sealing import LedgerKey, SealBroken

BATCH = 5000
# Rows are read as tuples, not model instances (see rows_after).
ROW_FIELDS = ("seq", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "details", "sealed",
              "prev_hash", "entry_hash", "mac")
Row = namedtuple("Row", ROW_FIELDS)
MAX_PROBLEMS = 100
DESTROYED = "ledger.payloads_destroyed"


@dataclass(frozen=True)
class Problem:
    seq: int | None   # the entry concerned; None for the ledger as a whole
    message: str
    span: bool = False  # about a range of entries (a checkpoint's), not one entry


@dataclass(frozen=True)
class Position:
    """Where a verification may resume: the first SIZE entries were verified and end in
    LAST_HASH with this Merkle FRONTIER; checkpoint file lines up to LINE were verified;
    BEFORE_MACS of those entries were written before MACs."""

    size: int = 0
    last_hash: str = GENESIS
    frontier: tuple = ()
    line: int = 0
    before_macs: int = 0

    def merkle(self) -> MerkleFrontier:
        return MerkleFrontier.from_list(self.size, self.frontier)


@dataclass
class VerificationReport:
    entries: int = 0
    checkpoints: int = 0
    deep: bool = False
    before_macs: int = 0   # entries #1 to #before_macs were written before MACs
    problems: list[Problem] = field(default_factory=list)
    resume: Position = field(default_factory=Position)  # the last checkpoint verified
    root: str = ""         # the Merkle root of the entries verified (hex)
    last_hash: str = GENESIS  # the hash of the last entry verified

    @property
    def is_intact(self) -> bool:
        return not self.problems

    def add(self, seq: int | None, message: str, span: bool = False) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, message, span))

    @property
    def summary(self) -> str:
        if not self.is_intact:
            return self.problems[0].message
        summary = (f"Intact: {self.entries} entries, chain and {self.checkpoints} signed checkpoint(s) verified"
                   + (", every sealed field opened and matched." if self.deep else "."))
        if self.before_macs:
            summary += (f" Entries #1 to #{self.before_macs} were written before MACs: their hashes and the"
                        " checkpoints cover them, but no MAC and not their labels.")
        return summary


def verify_ledger(*, checkpoint_file=None, public_key: bytes | None = None, key: LedgerKey | None = None,
                  start: Position | None = None) -> VerificationReport:
    """Check the ledger (see the module docstring) from START (default: the first entry); with
    KEY, open every sealed field too."""
    start = start or Position()
    report = VerificationReport(deep=key is not None, resume=start)
    checkpoints, checkpoint_problems = read_checkpoints(checkpoint_file, public_key)
    for message in checkpoint_problems:
        report.add(None, message)
    report.checkpoints = len(checkpoints)
    fresh = [checkpoint for checkpoint in checkpoints if checkpoint.line > start.line]
    check_checkpoints_behind(start, [checkpoint for checkpoint in fresh if checkpoint.size <= start.size], report)
    due = sorted((checkpoint for checkpoint in fresh if checkpoint.size > start.size), key=lambda c: (c.size, c.line))
    scan = Scan(start, report, mac_key())
    while rows := rows_after(scan.last_seq):
        payloads = payloads_between(rows[0].seq, rows[-1].seq)
        labels = labels_between(rows[0].seq, rows[-1].seq)
        for entry in rows:
            scan.check(entry, labels.get(entry.seq, []), payloads.get(entry.seq, {}), key)
            while due and due[0].size == scan.frontier.size:
                scan.check_checkpoint(due.pop(0))
    for checkpoint in due:
        report.add(scan.last_seq + 1, f"The ledger ends at entry #{scan.last_seq}, but the checkpoint signed {checkpoint.at} "
                                      f"covers {checkpoint.size} entries: entries #{scan.last_seq + 1} to #{checkpoint.size} "
                                      "were removed.", span=True)
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None and head.size > scan.last_seq:
        report.add(scan.last_seq + 1, f"The ledger ends at entry #{scan.last_seq}, but its head records {head.size} entries: "
                                      f"entries #{scan.last_seq + 1} to #{head.size} were removed.", span=True)
    report.entries, report.before_macs, report.root = scan.entries, scan.before_macs, scan.frontier.root().hex()
    report.last_hash = scan.prev
    report.resume = replace_line(report.resume, max((c.line for c in checkpoints), default=start.line))
    # Unreadable checkpoints first, then problems with one entry, earliest first (the first bad
    # entry), then those a checkpoint reveals about a range of entries.
    report.problems.sort(key=lambda problem: (problem.seq is not None, problem.span, problem.seq or 0))
    return report


class Scan:
    """The walk along the chain: what the entries read so far add up to."""

    def __init__(self, start: Position, report: VerificationReport, mac_key: bytes):
        self.report, self.mac_key = report, mac_key
        self.frontier, self.prev, self.last_seq = start.merkle(), start.last_hash, start.size
        self.entries, self.before_macs = start.size, start.before_macs
        self.destroyed_through = payloads_destroyed_through()

    @property
    def macs_started(self) -> bool:
        return self.last_seq > self.before_macs

    def check(self, entry: Row, labels: list[tuple[str, str]], payloads: dict[str, bytes], key) -> None:
        report, seq = self.report, entry.seq
        if seq != self.last_seq + 1:
            report.add(self.last_seq + 1, f"Entry #{self.last_seq + 1} is missing: the next entry is #{seq}.")
        elif entry.prev_hash != self.prev:
            report.add(seq, f"Entry #{seq} does not follow entry #{seq - 1}: one of them was changed, "
                            "or an entry was inserted, removed or moved between them.")
        if entry.mac:
            body = entry_body(entry, labels_body(labels))
        elif self.macs_started:
            report.add(seq, f"Entry #{seq} has no MAC, but entries before it do: it was written without the ledger's MAC key.")
            body = entry_body(entry, None)
        else:
            self.before_macs += 1
            body = entry_body(entry, None)
        if entry_hash(body) != entry.entry_hash:
            report.add(seq, f"Entry #{seq} was modified or inserted: its contents do not match its hash.")
        elif entry.mac and not mac_holds(self.mac_key, entry.entry_hash, entry.mac):
            report.add(seq, f"Entry #{seq} has a MAC that does not hold: it was written or rewritten without the "
                            "ledger's MAC key.")
        check_payloads(entry, payloads, self.destroyed_through, key, report)
        self.frontier.append(leaf_of(entry.entry_hash))
        self.prev, self.last_seq = entry.entry_hash, seq
        self.entries += 1

    def check_checkpoint(self, checkpoint: Checkpoint) -> None:
        if self.frontier.root().hex() != checkpoint.root:
            rewritten(checkpoint, self.report)
        elif self.report.is_intact:
            self.report.resume = Position(checkpoint.size, self.prev, tuple(self.frontier.to_list()), checkpoint.line,
                                          self.before_macs)


def check_checkpoints_behind(start: Position, checkpoints: list[Checkpoint], report: VerificationReport) -> None:
    """New checkpoint lines that cover no more than START: signed while an earlier run was
    verifying further along (two checkpoints written at once). Their roots are recomputed from
    the stored entry hashes; those up to START's size were verified into START's frontier."""
    for checkpoint in checkpoints:
        if checkpoint.size == start.size:
            root = start.merkle().root().hex()
        else:
            root = tree_root(leaves_through(checkpoint.size)).hex()
        if root != checkpoint.root:
            rewritten(checkpoint, report)


def rewritten(checkpoint: Checkpoint, report: VerificationReport) -> None:
    report.add(checkpoint.size, f"Entries #1 to #{checkpoint.size} are not the ones the checkpoint signed "
                                f"{checkpoint.at} covers (its Merkle root differs): the history was rewritten.", span=True)


def replace_line(position: Position, line: int) -> Position:
    return Position(position.size, position.last_hash, position.frontier, max(line, position.line), position.before_macs)


def leaves_through(size: int) -> list[bytes]:
    """The Merkle leaves of entries #1 to #SIZE, from their stored hashes."""
    hashes = LedgerEntry.objects.filter(seq__lte=size).order_by("seq").values_list("entry_hash", flat=True)
    return [leaf_of(value) for value in hashes.iterator(chunk_size=BATCH)]


def rows_after(last_seq: int) -> list[Row]:
    """The next BATCH entries after LAST_SEQ, read with one plain query: Django's per-value
    converters cost a third of the time at a million entries."""
    columns = ", ".join(ROW_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM audit_ledgerentry WHERE seq > %s ORDER BY seq LIMIT %s", [last_seq, BATCH])
        return [Row(seq, as_utc(at), actor_id, actor_name, action, target_type, target_id, as_json(details),
                    as_json(sealed), prev_hash, entry_hash, mac)
                for seq, at, actor_id, actor_name, action, target_type, target_id, details, sealed, prev_hash, entry_hash, mac
                in cursor.fetchall()]


def as_utc(value) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives text, PostgreSQL an aware datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def as_json(value):
    """A stored JSON column as Python (SQLite gives text, psycopg decodes jsonb itself)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def check_payloads(entry: Row, stored: dict[str, bytes], destroyed_through: int, key: LedgerKey | None,
                   report: VerificationReport) -> None:
    for name in sorted(set(stored) - set(entry.sealed)):
        report.add(entry.seq, f"Entry #{entry.seq} has a sealed payload “{name}” it never committed to.")
    for name, digest in entry.sealed.items():
        ciphertext = stored.get(name)
        if ciphertext is None:
            if entry.seq > destroyed_through:
                report.add(entry.seq, f"Entry #{entry.seq}: its sealed field “{name}” was deleted before its retention ended.")
            continue
        if ciphertext_digest(ciphertext) != digest.get("ciphertext_sha256"):
            report.add(entry.seq, f"Entry #{entry.seq}: its sealed field “{name}” was modified.")
            continue
        if key is not None:
            try:
                key.open(entry.seq, name, ciphertext, digest)
            except SealBroken as error:
                report.add(entry.seq, error.message)


def payloads_between(first: int, last: int) -> dict[int, dict[str, bytes]]:
    found: dict[int, dict[str, bytes]] = {}
    rows = SealedPayload.objects.filter(entry__seq__gte=first, entry__seq__lte=last).values_list(
        "entry__seq", "field", "ciphertext")
    for seq, name, ciphertext in rows:
        found.setdefault(seq, {})[name] = bytes(ciphertext)
    return found


def labels_between(first: int, last: int) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    rows = EntryLabel.objects.filter(entry__seq__gte=first, entry__seq__lte=last).values_list("entry__seq", "kind", "value")
    for seq, kind, value in rows:
        found.setdefault(seq, []).append((kind, value))
    return found


def payloads_destroyed_through() -> int:
    """The highest entry number whose payloads a retention entry says were destroyed."""
    ends = LedgerEntry.objects.filter(action=DESTROYED).values_list("details__through_seq", flat=True)
    return max((end for end in ends if isinstance(end, int)), default=0)
