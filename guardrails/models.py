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
