"""A model that breaks off or runs out of time mid-answer, in a real worker: the analyst gets the
quoted evidence with a clear reason, the trace is written with what was said so far, and the same
worker answers the next question. The model outside the perimeter is a fake server on 127.0.0.1 (it is the only
model whose failures a test can script); the local models' deadline is tested in test_generation.py."""
from io import StringIO

import pytest
from django.core.management import call_command

from appliance.answering.conversations import ask_in_conversation
from appliance.answering.models import Exchange
from appliance.audit.models import LedgerEntry
from appliance.audit.reading import unsealed
from appliance.routing.registry import register_shipped_models
from appliance.runtime import release_store
from tests.conftest import start_worker, stop_worker, wait_for
from tests.fake_llm_server import FakeLLMServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUT_OFF = ['{"choices": [{"delta": {"content": "The canteen opens"}, "finish_reason": null}]}']


def ask_and_wait(analyst, question: str) -> Exchange:
    exchange = ask_in_conversation(analyst, question, ["Canteen"])
    return wait_for(lambda: Exchange.objects.filter(pk=exchange.pk).exclude(
        status__in=[Exchange.Status.QUEUED, Exchange.Status.ANSWERING]).first(), seconds=120)


def test_a_model_failing_mid_answer_is_explained_traced_and_survived(analyst, tmp_path):
    register_shipped_models()
    (tmp_path / "canteen.md").write_text("# Canteen\n\nThe canteen opens at noon and closes at three.\n")
    call_command("ingest", str(tmp_path / "canteen.md"), collection="Canteen", classification="public",
                 grant=["analysts"], stdout=StringIO())
    release_store()
    with FakeLLMServer() as llm:
        worker = start_worker(APPLIANCE_EXTERNAL_LLM_URL=llm.url, APPLIANCE_EXTERNAL_LLM_MODEL="general",
                              ANSWERING_TIMEOUT_SECONDS="1")
        try:
            llm.events = CUT_OFF
            cut_off = ask_and_wait(analyst, "When does the canteen open?")

            llm.events, llm.pieces, llm.piece_delay_seconds = None, ["It", " opens", " at", " noon", " [1]."] * 4, 0.25
            too_slow = ask_and_wait(analyst, "When does the canteen close?")

            llm.pieces, llm.piece_delay_seconds = ["It opens at noon [1]."], 0
            answered = ask_and_wait(analyst, "When does the canteen open on weekdays?")
            worker_alive = worker.poll() is None
        finally:
            output = stop_worker(worker)

    quotes = "The documents say:\n\u201cThe canteen opens at noon and closes at three.\u201d [1]"
    assert (cut_off.outcome, cut_off.answer, cut_off.flags) == (
        "quoted", quotes, ["general stopped before finishing its answer."])
    assert (too_slow.outcome, too_slow.answer, too_slow.flags) == (
        "quoted", quotes, ["general took longer than 1s to answer."])
    assert (answered.outcome, answered.answer, worker_alive) == ("answered", "It opens at noon [1].", True)
    traces = {entry.target_id: entry for entry in LedgerEntry.objects.filter(action__startswith="answer.")}
    assert traces[cut_off.trace_id].details["outcome"] == "quoted"
    assert traces[cut_off.trace_id].details["error"] == "model_unreachable"
    assert unsealed(traces[cut_off.trace_id])["raw_answer"] == "The canteen opens"
    assert traces[too_slow.trace_id].details["error"] == "model_timeout"
    assert unsealed(traces[too_slow.trace_id])["raw_answer"].startswith("It opens at")
    assert "Traceback" not in output
