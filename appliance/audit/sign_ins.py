"""Failed sign-ins and lockouts as ledger entries: the username tried (never the password) and
the address it came from."""
from appliance.audit.recording import record_event


def record_failed_login(sender, credentials=None, request=None, **_kwargs) -> None:
    record_event("login.failed", None, None, username=str((credentials or {}).get("username", ""))[:150],
                 address=client_address(request))


def record_lockout(sender, request=None, username=None, ip_address=None, **_kwargs) -> None:
    record_event("login.locked_out", None, None, username=str(username or "")[:150],
                 address=ip_address or client_address(request))


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""
