"""Retention: sealed payloads of entries older than settings.AUDIT_RETENTION_DAYS are destroyed.

The entries stay, with the hashes that committed to their payloads, so the chain and every
checkpoint still verify; what is gone is the question, prompt, answer and passage text. Each run
that destroys something records it as an entry ("ledger.payloads_destroyed", through_seq = the
newest entry affected), which is what lets verification accept those payloads' absence and no
other. Entries are destroyed oldest first and all at once up to a sequence number, so "through
entry #N" is exact.

The analysts' exchanges (appliance.answering: their sealed questions, answers and quotes) follow
the same period: each run deletes the exchanges asked before the cutoff, and conversations left
empty, and records how many ("exchanges.destroyed").
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
    destroy_expired_exchanges(cutoff)
    through = LedgerEntry.objects.filter(at__lt=cutoff).order_by("-seq").values_list("seq", flat=True).first()
    if through is None:
        return 0
    with transaction.atomic():
        destroyed, _ = SealedPayload.objects.filter(entry__seq__lte=through).delete()
        if destroyed:
            record_event(DESTROYED, None, None, through_seq=through, payloads=destroyed,
                         older_than=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), retention_days=settings.AUDIT_RETENTION_DAYS)
    return destroyed


def destroy_expired_exchanges(cutoff) -> int:
    """Delete the exchanges asked before CUTOFF, and the conversations that leaves empty; returns
    how many exchanges."""
    from appliance.answering.models import Conversation, Exchange  # answering records into the ledger, not back

    with transaction.atomic():
        destroyed, _ = Exchange.objects.filter(asked_at__lt=cutoff).delete()
        Conversation.objects.filter(started_at__lt=cutoff, exchanges__isnull=True).delete()
        if destroyed:
            record_event("exchanges.destroyed", None, None, exchanges=destroyed,
                         older_than=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), retention_days=settings.AUDIT_RETENTION_DAYS)
    return destroyed
