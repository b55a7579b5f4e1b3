import base64
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from appliance.audit.sealing import SealBroken, ledger_key
from guardrails.reasons import joined

# Sealed exchange fields use the ledger's field encryption (appliance/audit/sealing.py) under the
# ledger key. Ledger entries are numbered from 1, so sequence 0 with the exchange's uid in the
# field name gives associated data no ledger field has: a ciphertext opens only in the field and
# the exchange it was sealed for (copied into another analyst's exchange, it does not open).
EXCHANGE_SEQ = 0
UNREADABLE = "This text was sealed with a key the appliance no longer holds."
WITHHELD_QUESTION = "Question withheld: {reasons}."


class Conversation(models.Model):
    """An analyst's thread of questions. Its sensitivity only rises: once a conversation has touched
    protected data, every later answer in it stays inside the perimeter (conversation taint)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    started_at = models.DateTimeField(default=timezone.now)
    sensitivity = models.CharField(max_length=20, default="public")

    class Meta:
        ordering = ["-started_at"]


class Exchange(models.Model):
    """One question and what became of it. The worker fills the answer in while it streams; the
    analyst's page polls it.

    The question, the answer and the quotes are sealed at rest (sealed_*; read and write them as
    `question`, `answer` and `evidence`): the database holds ciphertext only. A blocked question
    is not kept at all, sealed or not: once the screen blocks it, `question` reads as a
    placeholder naming why ("Question withheld: it contains a payment card number."). Exchanges
    older than the ledger's retention period are deleted (appliance/audit/retention.py).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        ANSWERING = "answering", "Answering"
        ANSWERED = "answered", "Answered"
        REFUSED = "refused", "Refused"
        BLOCKED = "blocked", "Blocked by the question policy"
        FAILED = "failed", "Failed"

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered from the documents"
        QUOTED = "quoted", "Quoted from the documents"
        NOT_FOUND = "not_found", "Not in the documents"
        REFUSED = "refused", "Refused"
        BLOCKED = "blocked", "Blocked by the question policy"

    class Stage(models.TextChoices):
        SCREENING = "screening", "Screening the question…"
        SEARCHING = "searching", "Searching your documents…"
        WRITING = "writing", "Found the passages; writing a short answer from them…"
        CHECKING = "checking", "Checking the answer against the quotes…"

    SEALED = ("question", "answer", "evidence")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # what its seals are bound to
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="exchanges")
    asked_at = models.DateTimeField(default=timezone.now, db_index=True)
    sealed_question = models.JSONField(null=True, blank=True)  # None: never asked, or blocked and so not kept
    collections = models.JSONField(default=list)   # names asked about; empty = every granted collection
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    sealed_answer = models.JSONField(null=True, blank=True)
    route = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)  # while in progress
    sources = models.JSONField(default=list)        # passages retrieved: n, chunk_id, document, page, section
    sealed_evidence = models.JSONField(null=True, blank=True)  # the quotes: n, text, start, end (offsets in passage n)
    cited = models.JSONField(default=list)          # passage numbers the answer rests on
    flags = models.JSONField(default=list)          # why the model's text was not shown; what the checks found
    trace_id = models.CharField(max_length=32, blank=True)
    # Where personal data sits in each passage retrieved, found by the worker's PII scanner:
    # {chunk_id: [[start, end, entity type], ...]}; offsets and types, never values. The passage
    # panel masks these spans (appliance/web/chat_views.py).
    passage_entities = models.JSONField(default=dict)

    class Meta:
        ordering = ["asked_at", "id"]

    @property
    def is_in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.ANSWERING)

    @property
    def is_question_withheld(self) -> bool:
        """A blocked question: the exchange keeps why it was blocked, not what was asked."""
        return self.sealed_question is None and self.outcome == self.Outcome.BLOCKED

    @property
    def question(self) -> str:
        if self.is_question_withheld:
            return withheld_question(self.flags)
        return self.opened("question", "")

    @question.setter
    def question(self, value: str) -> None:
        self.sealed_question = self.seal("question", value)

    @property
    def answer(self) -> str:
        return self.opened("answer", "")

    @answer.setter
    def answer(self, value: str) -> None:
        self.sealed_answer = self.seal("answer", value)

    @property
    def evidence(self) -> list[dict]:
        return self.opened("evidence", [])

    @evidence.setter
    def evidence(self, value: list[dict]) -> None:
        self.sealed_evidence = self.seal("evidence", value)

    def seal(self, field: str, value) -> dict:
        """VALUE sealed for FIELD of this exchange, as stored in sealed_<FIELD> (use with update())."""
        return seal_exchange_field(self.uid, field, value)

    def opened(self, field: str, empty):
        """The value sealed in sealed_<FIELD>; EMPTY when nothing is; UNREADABLE when the seal does
        not open (the ledger key was replaced, or the row was tampered with)."""
        stored = getattr(self, f"sealed_{field}")
        if stored is None:
            return empty
        try:
            return open_exchange_field(self.uid, field, stored)
        except (SealBroken, KeyError, ValueError):
            return UNREADABLE if isinstance(empty, str) else empty


def seal_exchange_field(uid, field: str, value) -> dict:
    """{ciphertext (base64), commitment, key_id}: VALUE sealed with the ledger key, bound to the
    exchange UID and FIELD."""
    sealed = ledger_key().seal(EXCHANGE_SEQ, f"exchange:{uid}:{field}", value)
    return {"ciphertext": base64.b64encode(sealed.ciphertext).decode("ascii"),
            "commitment": sealed.digest["commitment"], "key_id": sealed.digest["key_id"]}


def open_exchange_field(uid, field: str, stored: dict):
    """The value in STORED (see seal_exchange_field). Raises SealBroken."""
    return ledger_key().open(EXCHANGE_SEQ, f"exchange:{uid}:{field}", base64.b64decode(stored["ciphertext"]), stored)


def withheld_question(reasons: list[str]) -> str:
    """What a blocked question reads as: "Question withheld: it contains a payment card number."."""
    return WITHHELD_QUESTION.format(reasons=joined(list(reasons) or ["it breaks the question policy"]))
