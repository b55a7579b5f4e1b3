import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from guardrails.policy import Policy


class PolicyVersion(models.Model):
    """One published version of the screening policy.

    Rows are only ever inserted (by guardrails.publishing.publish_policy); the database refuses
    UPDATE and DELETE (triggers in migration 0001), because verdicts name the version they applied.
    """

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=150)  # a username, kept as text: users come and go
    change_note = models.CharField(max_length=500)
    rules = models.JSONField()
    digest = models.CharField(max_length=64)  # guardrails.policy.rules_digest(rules)

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"policy v{self.number}"

    def to_policy(self) -> Policy:
        return Policy.from_rules(self.rules, version=self.number)

    def previous(self) -> "PolicyVersion | None":
        """The version this one replaced; None for the first."""
        return PolicyVersion.objects.filter(number__lt=self.number).order_by("-number").first()


class PolicyTrial(models.Model):
    """One run of the policy test bench (guardrails/testbench.py): a question screened, or the last N
    stored questions replayed, under a draft policy and under the version in force.

    The web tier creates the row and queues its id; the worker claims it, fills in done/total as it
    goes (the editor polls them) and writes the result. A question typed into the bench is sealed
    (sealed_question, under the ledger key) only until the worker has screened it, then dropped: the
    result keeps findings in words with what each matched (personal data masked: an e-mail address as
    j***@domain, other kinds by place; other matches as text, up to 80 characters, which for the
    classifier or a topic can be a short question whole). A replay's result keeps, per changed
    question, its trace and the spans to mask, never the text.
    """

    class Kind(models.TextChoices):
        QUESTION = "question", "One question"
        REPLAY = "replay", "Replay of stored questions"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # what the sealed question is bound to
    kind = models.CharField(max_length=20, choices=Kind.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    draft_rules = models.JSONField()
    draft_digest = models.CharField(max_length=64)
    current_version = models.PositiveIntegerField()  # the published version the draft is compared with
    sealed_question = models.JSONField(null=True, blank=True)
    size = models.PositiveIntegerField(default=1)  # questions asked for (a replay's N)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-requested_at", "-id"]

    @property
    def is_in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
