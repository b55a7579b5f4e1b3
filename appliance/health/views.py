from django.http import JsonResponse
from django.views.decorators.http import require_GET

from appliance.health.heartbeat import is_database_up, is_worker_alive, latest_heartbeat


@require_GET
def healthz(request):
    """Liveness for load balancers and docker health checks; reveals no data, needs no login."""
    if not is_database_up():
        return JsonResponse({"database": "down"}, status=503)
    heartbeat = latest_heartbeat()
    return JsonResponse(
        {
            "database": "up",
            "worker": "up" if is_worker_alive(heartbeat) else "silent",
            "worker_last_seen": heartbeat.last_seen.isoformat() if heartbeat else None,
        }
    )
