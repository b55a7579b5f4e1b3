"""ExternalModel against a real HTTP server on 127.0.0.1 (tests/fake_llm_server.py)."""
import json
import logging
import socket

import pytest

from appliance.errors import ModelUnavailable
from appliance.routing.external import ExternalModel
from appliance.routing.generation import ChatMessage
from tests.fake_llm_server import FakeLLMServer

MESSAGES = [
    ChatMessage("system", "Answer from the sources only."),
    ChatMessage("user", "Which contracts did Jane Doe (jane@example.com) sign in 2024?"),
]


@pytest.fixture
def llm_server():
    with FakeLLMServer() as server:
        yield server


def external(server: FakeLLMServer, **options) -> ExternalModel:
    return ExternalModel(url=server.url, model="general-large", name="Hosted model", **options)


def failure_of(model: ExternalModel, **options) -> ModelUnavailable:
    with pytest.raises(ModelUnavailable) as raised:
        list(model.stream(MESSAGES, **options))
    return raised.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_streams_the_pieces_in_order(llm_server):
    llm_server.pieces = ["Jane", " signed", " two", " contracts", "."]

    assert list(external(llm_server).stream(MESSAGES)) == ["Jane", " signed", " two", " contracts", "."]


def test_it_posts_the_messages_exactly(llm_server):
    list(external(llm_server).stream(MESSAGES, max_tokens=40, temperature=0.2))

    [request] = llm_server.requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "general-large",
        "messages": [
            {"role": "system", "content": "Answer from the sources only."},
            {"role": "user", "content": "Which contracts did Jane Doe (jane@example.com) sign in 2024?"},
        ],
        "max_tokens": 40,
        "temperature": 0.2,
        "stream": True,
    }
    assert request.headers["accept"] == "text/event-stream"
    assert llm_server.bytes_received > len(request.raw_body)


def test_it_sends_nothing_until_the_stream_is_read(llm_server):
    pieces = external(llm_server).stream(MESSAGES)

    assert llm_server.bytes_received == 0
    assert next(pieces) == "The capital"


def test_it_sends_the_bearer_key_only_when_one_is_set(llm_server):
    list(external(llm_server, api_key="sk-test-123").stream(MESSAGES))
    list(external(llm_server).stream(MESSAGES))

    with_key, without_key = llm_server.requests
    assert with_key.headers["authorization"] == "Bearer sk-test-123"
    assert "authorization" not in without_key.headers


def test_it_reports_a_server_error_as_temporary_without_the_body(llm_server):
    llm_server.status = 500

    error = failure_of(external(llm_server))

    assert error.message == "Hosted model answered with HTTP 500."
    assert error.code == "model_http_error"
    assert error.permanent is False


def test_it_reports_a_rejected_key_as_permanent(llm_server):
    llm_server.status = 401

    error = failure_of(external(llm_server, api_key="sk-wrong"))

    assert error.message == "Hosted model answered with HTTP 401."
    assert error.permanent is True


def test_it_reports_rate_limiting_as_temporary(llm_server):
    llm_server.status = 429

    error = failure_of(external(llm_server))

    assert error.message == "Hosted model answered with HTTP 429."
    assert error.permanent is False


def test_it_reports_a_refused_connection():
    model = ExternalModel(url=f"http://127.0.0.1:{closed_port()}/v1", model="general-large", name="Hosted model")

    error = failure_of(model)

    assert error.message == "Hosted model could not be reached."
    assert error.code == "model_unreachable"
    assert error.permanent is False


def test_it_gives_up_on_a_server_that_stalls(llm_server):
    llm_server.stall_seconds = 10

    error = failure_of(external(llm_server, timeout_seconds=0.3))

    assert error.message == "Hosted model took longer than 0.3s to answer."
    assert error.code == "model_timeout"
    assert error.permanent is False


def test_it_stops_a_trickling_answer_at_the_deadline_after_what_arrived(llm_server):
    llm_server.piece_delay_seconds = 0.3  # each read is quick; only the whole answer is too slow
    received = []

    with pytest.raises(ModelUnavailable) as raised:
        for piece in external(llm_server).stream(MESSAGES, timeout_seconds=0.75):
            received.append(piece)

    assert raised.value.message == "Hosted model took longer than 0.75s to answer."
    assert received == ["The capital", " of France"]


def test_it_rejects_a_malformed_event(llm_server):
    llm_server.events = ['{"choices": [{"delta": {"content": "Jane"}}]}', "{not json", "[DONE]"]
    received = []

    with pytest.raises(ModelUnavailable) as raised:
        for piece in external(llm_server).stream(MESSAGES):
            received.append(piece)

    assert raised.value.message == "Hosted model sent an answer we cannot read."
    assert raised.value.code == "model_bad_response"
    assert raised.value.permanent is True
    assert isinstance(raised.value.__cause__, json.JSONDecodeError)
    assert received == ["Jane"]


def test_it_reports_an_error_event_in_the_stream(llm_server):
    llm_server.events = ['{"error": {"message": "overloaded"}}']

    error = failure_of(external(llm_server))

    assert error.message == "Hosted model reported an error while answering."
    assert error.permanent is False


def test_it_reports_an_answer_cut_off_before_done(llm_server):
    llm_server.events = ['{"choices": [{"delta": {"content": "Jane signed"}, "finish_reason": null}]}']

    error = failure_of(external(llm_server))

    assert error.message == "Hosted model stopped before finishing its answer."
    assert error.permanent is False


def test_it_skips_events_without_choices(llm_server):
    llm_server.events = [
        '{"choices": [], "prompt_filter_results": []}',
        '{"choices": [{"delta": {"content": "Two."}, "finish_reason": "stop"}]}',
        '{"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2}}',
        "[DONE]",
    ]

    assert list(external(llm_server).stream(MESSAGES)) == ["Two."]


def test_it_never_logs_the_question_or_the_answer(llm_server, caplog):
    llm_server.pieces = ["Contract ", "JD-2024-17"]

    with caplog.at_level(logging.DEBUG, logger="appliance.routing"):
        assert "".join(external(llm_server).stream(MESSAGES)) == "Contract JD-2024-17"

    assert "Hosted model answered" in caplog.text
    assert "Jane" not in caplog.text
    assert "JD-2024-17" not in caplog.text


def test_it_estimates_four_characters_a_token(llm_server):
    model = external(llm_server)

    assert [model.count_tokens(text) for text in ("", "abc", "abcd", "abcde")] == [0, 1, 1, 2]
    assert model.context_size == 8192
    assert external(llm_server, context_size=32000).context_size == 32000


def test_it_rejects_a_url_that_is_not_http():
    with pytest.raises(ValueError) as raised:
        ExternalModel(url="ftp://llm.example.com/v1", model="general-large")

    assert str(raised.value) == "url must be an http:// or https:// URL, got 'ftp://llm.example.com/v1'"
