"""What /api/v1/ promises beyond its serializers.

One shape for every error, `{"error": a sentence for the person, "code": a stable word}`, whoever
raised it (our ApplianceError, DRF's authentication, permission, parsing, validation and
throttling, or Django's URL resolver), and the OpenAPI responses that document it; and input
fields that take only the JSON type the schema names (DRF would turn 12 into "12" and "12" into 12).
"""
import math

from django.http import JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from appliance.errors import ApplianceError
from guardrails.policy import MAX_QUESTION_CHARS_LIMIT

API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="what went wrong, in one sentence for the person at the screen")
    code = serializers.CharField(help_text="a stable word for programs: e.g. invalid_request, not_found, throttled")


class StrictCharField(serializers.CharField):
    """A JSON string, never a number turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Text the API keeps never holds a NUL character (PostgreSQL cannot store one; DRF refuses it).
WITHOUT_NUL = "^[^\\u0000]*$"


@extend_schema_field({"type": "string", "pattern": WITHOUT_NUL, "minLength": 1})
class NameField(StrictCharField):
    """A name to look up, e.g. a collection's: any JSON string but an empty one, spaces kept."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)


# What the schema promises a question is: text with something besides white space, no NUL, and no
# longer than any policy allows. The checks themselves stay in ask_in_conversation, which says so in words.
@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
                      "maxLength": MAX_QUESTION_CHARS_LIMIT})
class QuestionField(StrictCharField):
    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        # An empty question reaches ask_in_conversation, which says "The question is empty." (as
        # for one of spaces); allow_blank=True would do the same but put "or empty" in the schema.
        return "" if data == "" else super().run_validation(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, never a string or a float that looks like one."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


ERRORS = {
    400: "the request is not one this endpoint understands; `error` names the first problem",
    401: "no API token, or one that is unknown, expired or revoked",
    403: "the token's user may not do this, or must first choose their own password (code password_change_required)",
    404: "not found, or not yours",
    415: "the body is not JSON",
    429: "too many requests; the Retry-After header says in how many seconds to try again",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The `{error, code}` responses for STATUSES, for an endpoint's extend_schema(responses=...)."""
    return {status: OpenApiResponse(ErrorSerializer, description=ERRORS[status]) for status in statuses}


def document_retry_after(result, generator, request, public):
    """SPECTACULAR_SETTINGS postprocessing hook: every 429 carries the Retry-After header."""
    for operations in result["paths"].values():
        for operation in operations.values():
            if "429" in operation["responses"]:
                operation["responses"]["429"]["headers"] = {"Retry-After": {
                    "schema": {"type": "integer"}, "required": True, "description": "seconds to wait"}}
    return result


def api_exception_handler(exc, context) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's own handler (which keeps the Retry-After and
    WWW-Authenticate headers), with its body reshaped to `{error, code}`. Returns None for
    exceptions that are not an API error (a bug: Django's 500 handling applies)."""
    if isinstance(exc, ApplianceError):
        return Response({"error": exc.message, "code": exc.code}, status=exc.status)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": first_problem(exc.detail), "code": "invalid_request"}
    elif isinstance(exc, exceptions.Throttled):
        seconds = math.ceil(exc.wait or 1)
        response.data = {"error": f"Too many requests: try again in {seconds} second{'s' if seconds > 1 else ''}.",
                         "code": "throttled"}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"error": str(exc.detail), "code": codes if isinstance(codes, str) else exc.default_code}
    else:  # Django's Http404 or PermissionDenied, which DRF answered as its own
        response.data = {"error": str(response.data["detail"]),
                         "code": "not_found" if response.status_code == 404 else "permission_denied"}
    return response


def first_problem(detail, where: str = "") -> str:
    """The first message of a (nested) validation error, prefixed with the field it is about,
    e.g. "collections[0]: Not a valid string."."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        if key == "non_field_errors":
            return first_problem(value, where)
        return first_problem(value, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
    if isinstance(detail, list):
        return first_problem(detail[0], where)
    return f"{where}: {detail}" if where else str(detail)


def not_found(request, exception):
    """handler404: a URL under /api/ that matches no endpoint (e.g. a question id that is not a
    number) answers in the API's shape; any other URL gets the page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": "There is no such API endpoint.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)
