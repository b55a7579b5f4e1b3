"""A routed model that cannot be loaded ends the exchange like any other model failure: the analyst
gets the quotes and a plain reason, the trace is written, and no message meant for the analyst
(chat, API, `ask`) names a server path."""
import json
import struct
from io import StringIO

import pytest
from django.core.management import call_command

from appliance.accounts.tokens import issue_api_token
from appliance.answering.conversations import ask_in_conversation, run_exchange
from appliance.answering.models import Exchange
from appliance.audit.models import LedgerEntry
from appliance.routing.registry import register_model

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

QUESTION = "When does the canteen open?"
QUOTES = "The documents say:\n\u201cThe canteen opens at noon and closes at three.\u201d [1]"
NOT_LOADED = "Broken could not be loaded; an administrator can see why in the worker log."


def write_corrupt_gguf(path):
    """A GGUF header that reads (so the registry takes it), then junk where the model should be."""
    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value.encode())) + value.encode()

    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + text("general.architecture") + struct.pack("<I", 8)
                     + text("llama") + b"\x13\x37 junk, not weights")
    return path


@pytest.fixture
def canteen(analyst, tmp_path, settings):
    """One confidential document, no external model, and a model directory (returned) in tmp_path."""
    settings.APPLIANCE_EXTERNAL_LLM_URL = ""
    settings.ROUTING_MODEL_DIRS = [*settings.ROUTING_MODEL_DIRS, tmp_path / "models"]
    (tmp_path / "models").mkdir()
    (tmp_path / "canteen.md").write_text("# Canteen\n\nThe canteen opens at noon and closes at three.\n")
    call_command("ingest", str(tmp_path / "canteen.md"), collection="Canteen", classification="confidential",
                 grant=["analysts"], stdout=StringIO())
    return tmp_path / "models"


@pytest.fixture
def broken_model(canteen):
    """The only model: a corrupt GGUF, registered."""
    path = write_corrupt_gguf(canteen / "broken.gguf")
    register_model("Broken", path, "Canteen opening hours and everything else.")
    return path


def ask(question: str) -> dict:
    out = StringIO()
    call_command("ask", question, user="alice", collections=["Canteen"], stdout=out)
    return json.loads(out.getvalue())


def test_ask_ends_a_load_failure_in_quotes_with_its_trace_and_no_path(broken_model, caplog):
    result = ask(QUESTION)

    assert (result["outcome"], result["answer"], result["flags"]) == ("quoted", QUOTES, [NOT_LOADED])
    assert str(broken_model.parent) not in json.dumps(result, ensure_ascii=False)
    trace = LedgerEntry.objects.get(target_id=result["trace_id"])
    assert (trace.action, trace.details["outcome"], trace.details["error"]) == (
        "answer.answered", "quoted", "model_not_loaded")
    assert str(broken_model) in caplog.text  # the operator's log says which file


def test_the_chat_and_the_api_end_a_load_failure_in_quotes_with_its_trace_and_no_path(
        broken_model, analyst, parts, client):
    exchange = ask_in_conversation(analyst, QUESTION, ["Canteen"])
    run_exchange(exchange.pk, parts)

    exchange.refresh_from_db()
    assert (exchange.status, exchange.outcome, exchange.answer, exchange.flags) == (
        "answered", "quoted", QUOTES, [NOT_LOADED])
    assert LedgerEntry.objects.get(target_id=exchange.trace_id).details["error"] == "model_not_loaded"
    client.force_login(analyst)
    chat = client.get(f"/analyst/exchanges/{exchange.pk}/").content.decode()
    page = client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    api = client.get(f"/api/v1/questions/{exchange.pk}",
                     HTTP_AUTHORIZATION=f"Token {issue_api_token(analyst)}").content.decode()
    for shown in (chat, page, api):
        assert NOT_LOADED in shown
        assert str(broken_model.parent) not in shown


def test_a_model_file_gone_since_registration_is_refused_with_its_trace_and_no_path(broken_model):
    broken_model.unlink()

    result = ask(QUESTION)

    assert (result["outcome"], result["answer"]) == ("refused", (
        "Refused: a collection asked about is classified confidential and retrieved passages are labelled "
        "confidential, so only a model inside the perimeter may answer, and none is available. "
        "Broken cannot be used: its file is missing."))
    assert str(broken_model.parent) not in json.dumps(result, ensure_ascii=False)
    assert LedgerEntry.objects.get(target_id=result["trace_id"]).details["outcome"] == "refused"


def test_a_model_whose_chat_template_breaks_ends_in_quotes_with_its_trace(canteen, settings, caplog):
    # Real weights that llama.cpp loads, with a chat template Jinja cannot parse (same length, so
    # the rest of the file is untouched): the failure comes after llama.cpp, from the template.
    data = settings.ROUTING_SMOLLM2_GGUF.read_bytes()
    start = data.index(b"{% for message in messages %}")
    path = canteen / "template.gguf"
    path.write_bytes(data[:start] + b"{% for message in messages %%" + data[start + 29:])
    register_model("Broken", path, "Canteen opening hours and everything else.")

    result = ask(QUESTION)

    assert (result["outcome"], result["answer"], result["flags"]) == ("quoted", QUOTES, [NOT_LOADED])
    assert LedgerEntry.objects.get(target_id=result["trace_id"]).details["error"] == "model_not_loaded"
    assert "TemplateSyntaxError" in caplog.text
