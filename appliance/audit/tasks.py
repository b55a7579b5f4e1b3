import logging

from celery import shared_task

from appliance.audit.checkpoints import write_checkpoint as write_signed_checkpoint, latest_checkpoint_size
from appliance.audit.models import LedgerHead
from appliance.audit.retention import destroy_expired_payloads as destroy_payloads
from appliance.audit.watching import CheckpointRefused, watch_chain

logger = logging.getLogger(__name__)


@shared_task(name="appliance.audit.tasks.write_checkpoint")
def write_checkpoint() -> int | None:
    """Celery beat, every AUDIT_CHECKPOINT_MINUTES: sign the ledger if it grew since the last
    checkpoint. Returns the size signed; None when nothing grew or the chain is broken (then the
    refusal is in the chain's state and its alert entry, and in the log)."""
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None or head.size == latest_checkpoint_size():
        return None
    try:
        return write_signed_checkpoint().size
    except CheckpointRefused as refused:
        logger.error("%s", refused.message)
        return None


@shared_task(name="appliance.audit.tasks.verify_chain")
def verify_chain() -> bool:
    """Celery beat, every AUDIT_VERIFY_MINUTES: verify what was added since the last verified
    checkpoint. Returns whether the chain is intact."""
    return watch_chain().is_intact


@shared_task(name="appliance.audit.tasks.verify_whole_chain")
def verify_whole_chain() -> bool:
    """Celery beat, daily: verify every entry, including those behind the last checkpoint, whose
    bodies the incremental runs do not re-read."""
    return watch_chain(whole=True).is_intact


@shared_task(name="appliance.audit.tasks.destroy_expired_payloads")
def destroy_expired_payloads() -> int:
    return destroy_payloads()
