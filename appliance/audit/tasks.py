from celery import shared_task

from appliance.audit.checkpoints import write_checkpoint as write_signed_checkpoint, latest_checkpoint_size
from appliance.audit.models import LedgerHead
from appliance.audit.retention import destroy_expired_payloads as destroy_payloads


@shared_task(name="appliance.audit.tasks.write_checkpoint")
def write_checkpoint() -> int | None:
    """Celery beat, every AUDIT_CHECKPOINT_MINUTES: sign the ledger if it grew since the last checkpoint."""
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None or head.size == latest_checkpoint_size():
        return None
    return write_signed_checkpoint().size


@shared_task(name="appliance.audit.tasks.destroy_expired_payloads")
def destroy_expired_payloads() -> int:
    return destroy_payloads()
