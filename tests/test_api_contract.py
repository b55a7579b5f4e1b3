"""/api/v1/ keeps its OpenAPI contract: every 4xx body is {error, code}, every status an endpoint
returns is in the document, and generated requests (schemathesis) find no 5xx and no violation."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from appliance.accounts.tokens import issue_api_token
from appliance.answering.models import Exchange

pytestmark = pytest.mark.django_db

ENDPOINTS = {("/api/v1/me", "get"), ("/api/v1/collections", "get"), ("/api/v1/questions", "post"),
             ("/api/v1/questions/{exchange_id}", "get"), ("/api/v1/history", "get")}


def token(person) -> str:
    return f"Token {issue_api_token(person)}"


@pytest.fixture
def analyst_token(analyst):
    return token(analyst)


def ask(client, auth, body, content_type="application/json"):
    return client.post("/api/v1/questions", body, content_type=content_type, HTTP_AUTHORIZATION=auth)


@pytest.mark.parametrize(("body", "error"), [
    ({}, "question: This field is required."),
    ({"question": 12}, "question: Not a valid string."),
    ({"question": None}, "question: This field may not be null."),
    ({"question": "When?", "collections": "Handbook"}, 'collections: Expected a list of items but got type "str".'),
    ({"question": "When?", "collections": [1]}, "collections[0]: Not a valid string."),
    ({"question": "When?", "conversation": "5"}, "conversation: A valid integer is required."),
    ({"question": "When?", "conversation": 0}, "conversation: Ensure this value is greater than or equal to 1."),
    (["When?"], "Invalid data. Expected a dictionary, but got list."),
])
def test_it_names_the_first_problem_of_a_malformed_question(client, analyst_token, body, error):
    response = ask(client, analyst_token, body)

    assert (response.status_code, response.json()) == (400, {"error": error, "code": "invalid_request"})
    assert not Exchange.objects.exists()


def test_it_answers_every_refusal_in_the_same_shape(client, analyst, admin, analyst_token):
    cases = [
        (client.get("/api/v1/history"), 401, "Authentication credentials were not provided.", "not_authenticated"),
        (client.get("/api/v1/history", HTTP_AUTHORIZATION="Token rag_not-a-token"), 401, "Invalid token.",
         "authentication_failed"),
        (client.get("/api/v1/history", HTTP_AUTHORIZATION=token(admin)), 403, "Only analysts may ask questions.",
         "permission_denied"),
        (client.get("/api/v1/questions/999", HTTP_AUTHORIZATION=analyst_token), 404, "No such question of yours.",
         "not_found"),
        (client.get("/api/v1/questions/-1", HTTP_AUTHORIZATION=analyst_token), 404, "There is no such API endpoint.",
         "not_found"),
        (client.get(f"/api/v1/questions/{2**64}", HTTP_AUTHORIZATION=analyst_token), 404, "No such question of yours.",
         "not_found"),
        (client.delete("/api/v1/history", HTTP_AUTHORIZATION=analyst_token), 405, 'Method "DELETE" not allowed.',
         "method_not_allowed"),
        (ask(client, analyst_token, {"question": "   "}), 400, "The question is empty.", "question_invalid"),
        (ask(client, analyst_token, {"question": "When?", "conversation": 2**62}), 404, "No such conversation of yours.",
         "not_found"),
        (ask(client, analyst_token, "{not json", content_type="application/json"), 400,
         "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", "parse_error"),
        (ask(client, analyst_token, "question=When%3F", content_type="application/x-www-form-urlencoded"), 415,
         'Unsupported media type "application/x-www-form-urlencoded" in request.', "unsupported_media_type"),
    ]

    for response, status, error, code in cases:
        assert (response.status_code, response["Content-Type"], response.json()) == (
            status, "application/json", {"error": error, "code": code})
    assert cases[0][0]["WWW-Authenticate"] == "Token"


@pytest.fixture
def schema(client, analyst_token):
    return client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json",
                      HTTP_AUTHORIZATION=analyst_token).json()


def test_it_documents_every_status_each_endpoint_returns(schema):
    documented = {(path, method): sorted(operation["responses"]) for path, operations in schema["paths"].items()
                  for method, operation in operations.items()}

    assert set(documented) == ENDPOINTS
    assert documented == {
        ("/api/v1/me", "get"): ["200", "401", "403"],
        ("/api/v1/collections", "get"): ["200", "401", "403"],
        ("/api/v1/questions", "post"): ["202", "400", "401", "403", "404", "415", "429"],
        ("/api/v1/questions/{exchange_id}", "get"): ["200", "401", "403", "404"],
        ("/api/v1/history", "get"): ["200", "401", "403"],
    }


def test_every_documented_error_is_the_error_shape(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "error"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                        path, method, status)


def test_it_documents_when_to_ask_again(schema):
    assert schema["paths"]["/api/v1/questions"]["post"]["responses"]["429"]["headers"] == {
        "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "seconds to wait"}}


def test_it_takes_questions_as_json_only(schema):
    assert list(schema["paths"]["/api/v1/questions"]["post"]["requestBody"]["content"]) == ["application/json"]


@pytest.fixture
def wsgi_app(db):
    """The WSGI application, called in this thread on the test's database transaction. Like Django's
    test client, it must not close the connection at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from appliance.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, analyst_token, two_team_corpus, settings):
    settings.API_ASK_RATE = "100000/min"  # 429 is tested in test_api_rate_limits.py; here it would hide the rest
    return schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", wsgi_app,
                                          headers={"Authorization": analyst_token})


# Per operation and per mode: enough to reach every documented status in about a minute here.
EXAMPLES = 50


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_requests_find_no_server_error_and_no_contract_violation(api_schema, analyst_token, mode):
    """Schemathesis draws requests from the OpenAPI document (valid ones, then invalid ones) and runs
    all its checks on each response: no 5xx, status, content type, headers and body as documented,
    valid data accepted and invalid data rejected, authentication enforced. Derandomized, so a
    failure here is the same failure on every run."""
    generation_mode = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {(operation.path, operation.method) for operation in operations} == ENDPOINTS

    for operation in operations:
        if mode == "negative" and not (operation.body or operation.path_parameters or operation.query):
            continue  # nothing in the request can be made invalid

        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=generation_mode))
        def run(case):
            case.call_and_validate(headers={"Authorization": analyst_token})

        run()
