"""Errors the person at the screen can act on.

The message speaks to the user; the code goes to logs and to the trace. `permanent` tells
callers at a boundary whether a retry can help.
"""


class ApplianceError(Exception):
    code = "appliance_error"
    status = 400

    def __init__(self, message: str, code: str | None = None, permanent: bool = True):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.permanent = permanent


class QuestionBlocked(ApplianceError):
    code = "question_blocked"
    status = 403


class QuestionInvalid(ApplianceError):
    """Not a question that can be screened at all: not text, or empty."""

    code = "question_invalid"
    status = 400


class ModelUnavailable(ApplianceError):
    code = "model_unavailable"
    status = 503


class IngestRejected(ApplianceError):
    code = "ingest_rejected"
    status = 422


class StoreUnavailable(ApplianceError):
    """The vector store cannot be opened or reached."""

    code = "store_unavailable"
    status = 503
