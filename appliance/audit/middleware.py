"""Denied access as ledger entries: every 403 the appliance answers (a role without the
permission, a CSRF failure, an API call without the right role) is recorded with who asked,
for which path and with which method. The query string is left out: it may carry search text."""
import logging

from django.db import DatabaseError

from appliance.audit.recording import record_event

logger = logging.getLogger(__name__)


class RecordDeniedAccess:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            record_denied_access(request)
        return response


def record_denied_access(request) -> None:
    user = getattr(request, "user", None)
    try:  # record_event's own transaction (a savepoint inside the request's) is undone on failure
        record_event("access.denied", user, None, path=request.path[:300], method=request.method)
    except DatabaseError:
        # The 403 stands either way; a ledger that cannot be written is an operator's alarm.
        logger.exception("Could not record a denied access in the audit ledger")
