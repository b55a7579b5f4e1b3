from django.http import JsonResponse
from django.views.decorators.http import require_GET

from appliance.audit.watching import latest_chain_state
from appliance.health.heartbeat import is_database_up, is_worker_alive, latest_heartbeat


@require_GET
def healthz(request):
    """Liveness for load balancers and docker health checks; reveals no data, needs no login.
    "ledger" is the audit chain's last verification: intact, broken or unverified (never yet)."""
    if not is_database_up():
        return JsonResponse({"database": "down"}, status=503)
    heartbeat = latest_heartbeat()
    return JsonResponse(
        {
            "database": "up",
            "worker": "up" if is_worker_alive(heartbeat) else "silent",
            "worker_last_seen": heartbeat.last_seen.isoformat() if heartbeat else None,
            **ledger_state(),
        }
    )


def ledger_state() -> dict:
    """The chain's state for /healthz: no problem text (it names entries and checkpoint times,
    which is the officers' business), only whether, when and how far."""
    state = latest_chain_state()
    if state is None:
        return {"ledger": "unverified", "ledger_verified_at": None, "ledger_entries_verified": 0}
    return {"ledger": "intact" if state.is_intact else "broken", "ledger_verified_at": state.checked_at.isoformat(),
            "ledger_entries_verified": state.entries}
