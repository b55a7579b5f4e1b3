"""Retention: sealed payloads of entries older than settings.AUDIT_RETENTION_DAYS are destroyed.

The entries stay, with the hashes that committed to their payloads, so the chain and every
checkpoint still verify; what is gone is the question, prompt, answer and passage text. Each run
that destroys something records it as an entry ("ledger.payloads_destroyed", through_seq = the
newest entry affected), which is what lets verification accept those payloads' absence and no
other. Entries are destroyed oldest first and all at once up to a sequence number, so "through
entry #N" is exact.
"""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appliance.audit.models import LedgerEntry, SealedPayload
from appliance.audit.recording import record_event
from appliance.audit.verification import DESTROYED


def destroy_expired_payloads(now=None) -> int:
    """Destroy the payloads of every entry older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    through = LedgerEntry.objects.filter(at__lt=cutoff).order_by("-seq").values_list("seq", flat=True).first()
    if through is None:
        return 0
    with transaction.atomic():
        destroyed, _ = SealedPayload.objects.filter(entry__seq__lte=through).delete()
        if destroyed:
            record_event(DESTROYED, None, None, through_seq=through, payloads=destroyed,
                         older_than=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), retention_days=settings.AUDIT_RETENTION_DAYS)
    return destroyed
