from django.conf import settings
from django.db import models
from django.utils import timezone


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
    analyst's page polls it."""

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

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="exchanges")
    asked_at = models.DateTimeField(default=timezone.now)
    question = models.TextField()
    collections = models.JSONField(default=list)   # names asked about; empty = every granted collection
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    answer = models.TextField(blank=True)
    route = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)  # while in progress
    sources = models.JSONField(default=list)        # passages retrieved: n, chunk_id, document, page, section
    evidence = models.JSONField(default=list)       # the quotes: n, text, start, end (offsets in passage n)
    cited = models.JSONField(default=list)          # passage numbers the answer rests on
    flags = models.JSONField(default=list)          # why the model's text was not shown; what the checks found
    trace_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]

    @property
    def is_in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.ANSWERING)
