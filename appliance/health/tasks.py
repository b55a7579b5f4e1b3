from celery import current_task, shared_task

from appliance.health.heartbeat import record_heartbeat


@shared_task
def heartbeat() -> None:
    """Sent by celery beat every minute; also used by tests to prove a worker consumes tasks."""
    record_heartbeat(worker_name=current_task.request.hostname or "worker")
