"""The egress gate: the last check before any byte leaves the perimeter (appliance/routing/egress.py).

A real HTTP server on 127.0.0.1 plays the external model and records every byte it receives. The
first tests talk to ExternalModel directly, so nothing but the gate stands between the request and
the server: no screening, no router. The last ones run the whole answer path, with real ingestion,
screening, Qdrant Edge and the shipped GGUF models, where the labels say "public" and only the
gate knows better.
"""
from io import StringIO

import pytest
from django.core.management import call_command

from appliance.answering.conversations import questions_sent_out
from appliance.answering.models import Conversation, Exchange
from appliance.answering.pipeline import answer_question
from appliance.audit.models import LedgerEntry
from appliance.routing.egress import EgressGate, EgressRefused
from appliance.routing.external import ExternalModel
from appliance.routing.generation import ChatMessage
from appliance.routing.models import RegisteredModel
from appliance.routing.registry import register_shipped_models, set_model_enabled
from guardrails.pii import PiiScanner
from tests.encoded import PERSONAL_DATA, cases, encode
from tests.fake_llm_server import FakeLLMServer

SYSTEM = ChatMessage("system", "You answer an analyst's question using only the numbered quotes from their documents.")


@pytest.fixture(scope="module")
def gate():
    scanner = PiiScanner()
    scanner.warm_up()
    return EgressGate(scanner)


@pytest.fixture
def recording_server():
    with FakeLLMServer() as server:
        yield server


def external(server: FakeLLMServer, gate: EgressGate) -> ExternalModel:
    return ExternalModel(url=server.url, model="general-large", name="Hosted model", gate=gate)


def prompt(question: str, quote: str = "The office opens at 8:00 on weekdays.") -> list[ChatMessage]:
    return [SYSTEM, ChatMessage("user", f"Quotes from the documents:\n[1] \u201c{quote}\u201d\n\nQuestion: {question}")]


def refusal(model: ExternalModel, messages, **options) -> EgressRefused:
    with pytest.raises(EgressRefused) as refused:
        list(model.stream(messages, **options))
    return refused.value


@pytest.mark.django_db
@pytest.mark.parametrize(("encoding", "kind"), cases())
def test_encoded_personal_data_never_reaches_the_external_model(gate, recording_server, encoding, kind):
    value, entity_type, _action = PERSONAL_DATA[kind]
    question = f"When does {encode(encoding, value)} start work?"

    refused = refusal(external(recording_server, gate), prompt(question))

    assert recording_server.requests == [] and recording_server.bytes_received == 0
    assert entity_type in {leak.entity for leak in refused.leaks}
    assert refused.message == "The request to Hosted model was stopped at the perimeter: it held personal data."
    assert (refused.code, refused.permanent) == ("egress_refused", True)


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["base64", "morse", "[at] and [dot]"])
def test_it_stops_personal_data_in_a_quote_whatever_its_label(gate, recording_server, encoding):
    quote = f"Escalations go to {encode(encoding, 'jane.doe@example.com')} during office hours."

    refused = refusal(external(recording_server, gate), prompt("Where do escalations go?", quote))

    assert recording_server.bytes_received == 0
    assert [leak.entity for leak in refused.leaks] == ["EMAIL_ADDRESS"]


@pytest.mark.django_db
def test_it_stops_an_address_split_across_two_turns(gate, recording_server):
    first, second = "Is the keys contact jane.doe@", "example.com, and when does the office open?"
    model = external(recording_server, gate)
    list(model.stream(prompt(first), conversation=[first]))  # on its own, nothing personal: it goes out
    sent_before = recording_server.bytes_received

    refused = refusal(model, prompt(second), conversation=[first, second])

    assert recording_server.bytes_received == sent_before and len(recording_server.requests) == 1
    assert refused.why == "EMAIL_ADDRESS (in the conversation so far)"


@pytest.mark.django_db
def test_it_sends_a_request_without_personal_data_exactly(gate, recording_server):
    list(external(recording_server, gate).stream(prompt("When does the office open?")))

    [request] = recording_server.requests
    assert request.body["messages"][1]["content"].endswith("Question: When does the office open?")


@pytest.mark.django_db
def test_it_says_what_it_found_and_where_but_never_the_value(gate, recording_server):
    question = "When does NTM2LTIyLTgxNzQ= start work?"  # an SSN in base64

    refused = refusal(external(recording_server, gate), prompt(question))

    assert refused.why == "US_SSN (in the base64 reading of the prompt)"
    assert "536" not in refused.why and "NTM2" not in refused.why


def test_a_conversation_hands_the_gate_the_questions_that_went_out(analyst):
    conversation = Conversation.objects.create(user=analyst)
    routes = [{"perimeter": "external"}, {"perimeter": "internal"}, None, {"perimeter": "external"}, None]
    exchanges = [Exchange.objects.create(conversation=conversation, question=f"question {n}", route=route)
                 for n, route in enumerate(routes)]
    elsewhere = Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question="other",
                                        route={"perimeter": "external"})

    assert questions_sent_out(exchanges[-1]) == ["question 0", "question 3"]
    assert questions_sent_out(exchanges[0]) == []
    assert questions_sent_out(elsewhere) == []


def test_it_takes_only_a_pii_scanner():
    with pytest.raises(TypeError) as raised:
        EgressGate(scanner="presidio")
    assert str(raised.value) == "scanner must be a PiiScanner, got 'presidio'"


# --- the whole answer path: the labels say public, the gate says no --------------------------------------

ESCALATION = ("# Escalations\n\nOut of hours, escalations go to the duty manager at amFuZS5kb2VAZXhhbXBsZS5jb20= "
              "who answers within one hour.\n")
HANDBOOK = "# Opening hours\n\nThe office opens at 8:00 and closes at 18:00 on weekdays.\n"


@pytest.fixture
def public_corpus(analyst, tmp_path, settings):
    settings.ANSWERING_MAX_TOKENS = 48
    register_shipped_models()
    for name, filename, text in [("Escalation guide", "escalation.md", ESCALATION), ("Handbook", "handbook.md", HANDBOOK)]:
        path = tmp_path / filename
        path.write_text(text)
        call_command("ingest", str(path), collection=name, classification="public", grant=["analysts"], stdout=StringIO())


@pytest.fixture
def external_llm(settings):
    with FakeLLMServer() as server:
        server.pieces = ["The duty manager answers", " within one hour [1]."]
        settings.APPLIANCE_EXTERNAL_LLM_URL = server.url
        settings.APPLIANCE_EXTERNAL_LLM_MODEL = "fake-general"
        yield server


@pytest.mark.slow
@pytest.mark.django_db
def test_the_gate_not_the_router_keeps_an_encoded_address_in_a_public_document_inside(public_corpus, analyst,
                                                                                        external_llm, parts):
    answer = answer_question(analyst, "Who do escalations go to out of hours?", parts, collections=["Escalation guide"])

    assert external_llm.requests == [] and external_llm.bytes_received == 0
    assert answer.route.perimeter == "internal"
    assert answer.route.sources["chunks"] == "public"  # the router alone would have sent it out
    assert answer.route.sources["egress"] == "confidential"
    assert answer.route.reason.startswith(
        "The egress gate stopped the request to fake-general: it held EMAIL_ADDRESS (in the base64 reading of "
        "the prompt). Answered inside the perimeter by "
    )
    trace = LedgerEntry.objects.get(target_id=answer.trace_id).details
    assert trace["route"]["sources"]["egress"] == "confidential"
    assert trace["route"]["reason"] == answer.route.reason


@pytest.mark.slow
@pytest.mark.django_db
def test_the_gate_refuses_when_no_model_inside_can_answer(public_corpus, analyst, external_llm, parts):
    for model in RegisteredModel.objects.all():
        set_model_enabled(model, False)

    answer = answer_question(analyst, "Who do escalations go to out of hours?", parts, collections=["Escalation guide"])

    assert external_llm.bytes_received == 0
    assert (answer.action, answer.outcome) == ("refused", "refused")
    assert answer.text == (
        "Refused: the egress gate stopped the request to fake-general: it held EMAIL_ADDRESS (in the base64 "
        "reading of the prompt), and no model inside the perimeter is available."
    )
    assert LedgerEntry.objects.get(target_id=answer.trace_id).action == "answer.refused"


@pytest.mark.slow
@pytest.mark.django_db
def test_the_gate_joins_a_conversation_s_turns(public_corpus, analyst, external_llm, parts):
    first = "Does the office open at 8:00 for the holder of 536-22"
    second = "-8174, and when does the office close on weekdays?"

    before = answer_question(analyst, first, parts, collections=["Handbook"])
    sent = external_llm.bytes_received
    assert before.route.perimeter == "external", (before.as_dict(), before.verdict.as_dict())
    answer = answer_question(analyst, second, parts, collections=["Handbook"], history=[first])

    assert sent > 0 and external_llm.bytes_received == sent
    assert answer.outcome != "not_found", answer.as_dict()
    assert answer.route.perimeter == "internal"
    assert "US_SSN (in the conversation so far)" in answer.route.reason
