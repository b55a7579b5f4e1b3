from datetime import timedelta

from django.db import connection
from django.utils import timezone

from appliance.health.models import WorkerHeartbeat

# The beat schedule sends a heartbeat every minute; three missed ones mean the worker is gone.
HEARTBEAT_INTERVAL = timedelta(seconds=60)
WORKER_SILENT_AFTER = 3 * HEARTBEAT_INTERVAL


def record_heartbeat(worker_name: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_name=worker_name, defaults={"last_seen": timezone.now()}
    )
    return heartbeat


def latest_heartbeat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-last_seen").first()


def is_worker_alive(heartbeat: WorkerHeartbeat | None) -> bool:
    return heartbeat is not None and timezone.now() - heartbeat.last_seen < WORKER_SILENT_AFTER


def is_database_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any driver error means "not up"; the health endpoint reports it
        return False
