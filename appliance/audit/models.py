"""The audit ledger's tables. Written only by appliance.audit.recording; the database refuses
UPDATE and DELETE on entries and labels (triggers, see the migrations), and UPDATE on payloads,
whose only deletion is the end of retention (retention.py).
"""
from django.db import models


class LedgerEntry(models.Model):
    """One event in the hash chain: an answer trace, an upload, a grant change, a failed login...

    `entry_hash` covers every other column (chain.py): changing any stored byte of the row, or
    of its sealed payloads, is caught by `manage.py audit verify`. There is no foreign key to the
    user: deleting a user must not touch the ledger.
    """

    seq = models.PositiveBigIntegerField(unique=True)          # 1, 2, 3, ... without gaps
    at = models.DateTimeField(db_index=True)                   # UTC, to the microsecond
    actor_id = models.IntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)  # "" for the system
    action = models.CharField(max_length=100, db_index=True)  # "answer.answered", "document.uploaded", ...
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    details = models.JSONField(default=dict)                   # plain: ids, counts, labels; never text or PII
    sealed = models.JSONField(default=dict)                    # {field: digest}, see sealing.py
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    # HMAC of entry_hash under settings.AUDIT_MAC_KEY, which the database never holds (chain.py).
    # NULL for entries written before MACs. Nullable without a default so that adding it is a
    # plain ALTER TABLE: on SQLite a default would rebuild the table and drop its triggers.
    mac = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action}"

    @property
    def is_answer_trace(self) -> bool:
        return self.action.startswith("answer.")


class SealedPayload(models.Model):
    """The encrypted value of one sealed field of an entry. Destroyed at the end of retention
    (the entry's hash, which commits to it, stays)."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="payloads")
    field = models.CharField(max_length=40)
    ciphertext = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "field"], name="one_payload_per_field")]


class EntryLabel(models.Model):
    """What the compliance console filters on, taken from an entry when it is written: its
    collections, entity types, route, perimeter, model. An index, not evidence: the entry is."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="labels")
    kind = models.CharField(max_length=20)   # "collection", "entity", "route", "perimeter", "model"
    value = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"])]


class LedgerHead(models.Model):
    """The end of the chain, one row: the last entry's number and hash, and the Merkle frontier
    (merkle.MerkleFrontier) that gives the tree root without reading every entry. Appending locks
    this row, so two writers can never both extend the same entry."""

    size = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)


class ChainCheck(models.Model):
    """The watcher's last verification of the chain, one row (watching.py): what the console's
    badge, the banner and /healthz show, and where the next incremental run resumes: the last
    signed checkpoint it verified (size, the entry hash there, the Merkle frontier there, its line
    in the checkpoint file).

    `mac` covers every other column under the ledger's MAC key, so a database writer can neither
    turn "broken" into "intact" nor move the resume point past entries they rewrote."""

    checked_at = models.DateTimeField()
    entries = models.PositiveBigIntegerField(default=0)
    checkpoints = models.PositiveIntegerField(default=0)
    is_intact = models.BooleanField(default=True)
    first_problem = models.TextField(blank=True)
    before_macs = models.PositiveBigIntegerField(default=0)  # entries #1.. written before MACs
    alerted_seq = models.PositiveBigIntegerField(null=True, blank=True)  # the "ledger.chain_broken" entry
    resume_size = models.PositiveBigIntegerField(default=0)
    resume_hash = models.CharField(max_length=64, blank=True)
    resume_frontier = models.JSONField(default=list)
    resume_line = models.PositiveIntegerField(default=0)
    resume_before_macs = models.PositiveBigIntegerField(default=0)
    mac = models.CharField(max_length=64)
