"""/api/v1/: ask with a token, poll the answer, list history and collections; the OpenAPI document."""
import json

import pytest

from appliance.accounts.tokens import issue_api_token
from appliance.answering.conversations import run_exchange
from appliance.answering.models import Conversation, Exchange
from appliance.audit.models import LedgerEntry
from guardrails.policy import DEFAULT_RULES
from guardrails.publishing import publish_policy

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def token_headers(person) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {issue_api_token(person)}"}


def test_an_analyst_asks_with_a_token_and_reads_the_answer(client, analyst, two_team_corpus, parts):
    headers = token_headers(analyst)

    response = client.post("/api/v1/questions", {"question": "When does the office open?", "collections": ["Handbook"]},
                           content_type="application/json", **headers)

    assert response.status_code == 202
    exchange_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/questions/{exchange_id}"
    assert response.json()["status"] == "queued"
    run_exchange(exchange_id, parts)  # what the worker does
    answer = client.get(f"/api/v1/questions/{exchange_id}", **headers).json()
    assert answer["status"] == "answered" and answer["answer"] and answer["in_progress"] is False
    assert answer["outcome"] in ("answered", "quoted") and answer["stage"] == ""
    assert answer["route"]["perimeter"] == "internal"
    assert [source["document"] for source in answer["sources"]] == ["Handbook.md"]
    assert [(quote["n"], quote["text"], quote["section"]) for quote in answer["evidence"]] == [
        (1, "The office opens at 8:00 on weekdays.", "Hours")]
    assert answer["cited"] == [1] and answer["reasons"] == []
    history = client.get("/api/v1/history", **headers).json()
    assert [[e["question"] for e in c["exchanges"]] for c in history] == [["When does the office open?"]]


def test_it_says_when_the_documents_do_not_answer(client, analyst, two_team_corpus, parts):
    headers = token_headers(analyst)
    exchange_id = client.post("/api/v1/questions", {"question": "Who won the football world cup in 2014?"},
                              content_type="application/json", **headers).json()["id"]

    run_exchange(exchange_id, parts)

    answer = client.get(f"/api/v1/questions/{exchange_id}", **headers).json()
    assert (answer["status"], answer["outcome"], answer["answer"]) == (
        "answered", "not_found", "The documents don't answer this.")
    assert answer["evidence"] == [] and answer["cited"] == []


def ask_and_answer(client, headers, parts, question) -> dict:
    exchange_id = client.post("/api/v1/questions", {"question": question}, content_type="application/json",
                              **headers).json()["id"]
    run_exchange(exchange_id, parts)
    return client.get(f"/api/v1/questions/{exchange_id}", **headers).json()


def test_a_blocked_question_says_why_without_repeating_the_card_number_or_a_score(client, analyst, two_team_corpus, parts):
    answer = ask_and_answer(client, token_headers(analyst), parts, "Why was the payment from card 4111 1111 1111 1111 declined?")

    assert (answer["status"], answer["outcome"], answer["route"], answer["sources"]) == ("blocked", "blocked", None, [])
    assert answer["reasons"] == ["it contains a payment card number"]
    assert answer["answer"] == (
        "Stopped by policy version 1 because it contains a payment card number. Ask again without the payment card "
        "number.\n" + DEFAULT_RULES["refusal_text"])
    trace = LedgerEntry.objects.get(target_id=answer["trace_id"])
    [finding] = [f for f in trace.details["verdict"]["findings"] if f["type"] == "CREDIT_CARD"]
    shown = json.dumps({key: value for key, value in answer.items() if key not in ("question", "trace_id")})
    for hidden in ("4111", "1111", "CREDIT_CARD", "pii", "score", str(finding["score"])):
        assert hidden not in shown


def test_a_blocked_question_names_the_organisation_pattern_the_policy_version_and_its_refusal_text(
        client, analyst, two_team_corpus, parts, officer):
    version = publish_policy({**DEFAULT_RULES, "patterns": [{"name": "Employee number", "regex": r"EMP-\d{6}", "action": "block"}],
                              "refusal_text": "Ask Dana in compliance if you need this."}, "Employee numbers", officer)

    answer = ask_and_answer(client, token_headers(analyst), parts, "Which laptop was issued to EMP-204518?")

    assert answer["reasons"] == ["it matches the organisation pattern 'Employee number'"]
    assert answer["answer"] == (f"Stopped by policy version {version.number} because it matches the organisation pattern "
                                "'Employee number'. Ask again without the Employee number.\nAsk Dana in compliance "
                                "if you need this.")
    assert "204518" not in answer["answer"]


def test_it_lists_only_the_collections_granted(client, analyst, two_team_corpus):
    assert client.get("/api/v1/collections", **token_headers(analyst)).json() == [
        {"name": "Handbook", "classification": "internal"}
    ]


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"question": "When is the hearing?", "collections": ["HR cases"]}, 403,
     "You have no collection named “HR cases”."),
    ({"question": "   "}, 400, "The question is empty."),
    ({"question": "When?", "collections": ["Nowhere"]}, 403, "You have no collection named “Nowhere”."),
])
def test_it_says_what_is_wrong_with_a_question(client, analyst, two_team_corpus, body, status, error):
    response = client.post("/api/v1/questions", body, content_type="application/json", **token_headers(analyst))

    assert (response.status_code, response.json()["error"]) == (status, error)
    assert not Exchange.objects.exists()


def test_nobody_reads_another_analysts_question(client, analyst, two_team_corpus):
    from appliance.accounts.roles import Role
    from tests.conftest import make_person

    asked = client.post("/api/v1/questions", {"question": "When does the office open?"},
                        content_type="application/json", **token_headers(analyst)).json()
    colleague = make_person("erin", Role.ANALYST, "hr")

    assert client.get(f"/api/v1/questions/{asked['id']}", **token_headers(colleague)).status_code == 404


@pytest.mark.parametrize("person", ["admin", "officer", "outsider"])
def test_only_analysts_may_use_the_question_api(client, request, person):
    headers = token_headers(request.getfixturevalue(person))

    for method, url in [("get", "/api/v1/collections"), ("post", "/api/v1/questions"), ("get", "/api/v1/questions/1"),
                        ("get", "/api/v1/history")]:
        assert getattr(client, method)(url, **headers).status_code == 403, url


def test_it_refuses_requests_without_a_token(client):
    assert client.get("/api/v1/history").status_code in (401, 403)


def test_it_publishes_an_openapi_document(client, analyst):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json", **token_headers(analyst)).json()

    assert schema["info"]["title"] == "Compliance RAG appliance API"
    assert {"/api/v1/questions", "/api/v1/questions/{exchange_id}", "/api/v1/history", "/api/v1/collections"} <= set(schema["paths"])
    reasons = schema["components"]["schemas"]["Exchange"]["properties"]["reasons"]
    assert (reasons["type"], reasons["items"]["type"]) == ("array", "string")


def test_it_masks_in_quotes_the_personal_data_the_chat_masks(client, analyst):
    text = "For taxis call the desk on +31 20 555 0142 before 18:00."
    phone = text.index("+31")
    quote = {"n": 1, "chunk_id": "c1", "document": "handbook.md", "page": None, "section": "Travel", "text": text,
             "start": 100, "end": 100 + len(text)}
    exchange = Exchange.objects.create(
        conversation=Conversation.objects.create(user=analyst), question="Whom do I call for a taxi?",
        status="answered", outcome="quoted", answer=f"The documents say:\n“{text}” [1]", evidence=[quote],
        sources=[{key: quote[key] for key in ("n", "chunk_id", "document", "page", "section")}], cited=[1],
        passage_entities={"c1": [[100 + phone, 100 + phone + 15, "PHONE_NUMBER"]]})

    answer = client.get(f"/api/v1/questions/{exchange.pk}", **token_headers(analyst)).json()
    history = client.get("/api/v1/history", **token_headers(analyst)).json()

    masked = "For taxis call the desk on ••••••••••••••• before 18:00."
    assert answer["evidence"][0]["text"] == masked
    assert answer["answer"] == f"The documents say:\n“{masked}” [1]"
    assert history[0]["exchanges"][0]["evidence"][0]["text"] == masked
    assert "555 0142" not in json.dumps([answer, history])
