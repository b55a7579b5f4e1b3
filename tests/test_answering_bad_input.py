"""Bad input to the answer path ends in one of the outcomes, with its trace written: a question
with no usable passages, passages in another language, and a model that writes nothing, runs to
its token limit or repeats itself. The model is a fake OpenAI-compatible server on 127.0.0.1 (the
only model whose output a test can script; a grammar a local model cannot follow is tested in
test_generation.py)."""
from io import StringIO

import pytest
from django.core.management import call_command

from appliance.answering.pipeline import answer_question
from appliance.audit.models import LedgerEntry
from appliance.audit.reading import unsealed
from appliance.routing.registry import register_shipped_models
from ingest.models import Collection
from tests.fake_llm_server import FakeLLMServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CANTEEN = "# Canteen\n\nThe canteen opens at noon and closes at three.\n"
KANTINE = "# Kantine\n\nDie Kantine öffnet um 12 Uhr und schließt um 15 Uhr. Montags bleibt sie geschlossen.\n"


@pytest.fixture
def external_llm(settings):
    with FakeLLMServer() as server:
        settings.APPLIANCE_EXTERNAL_LLM_URL = server.url
        settings.APPLIANCE_EXTERNAL_LLM_MODEL = "general"
        yield server


@pytest.fixture
def canteen(analyst, tmp_path, settings):
    settings.ANSWERING_MAX_TOKENS = 32
    register_shipped_models()
    for name, text in [("canteen.md", CANTEEN), ("kantine.md", KANTINE)]:
        (tmp_path / name).write_text(text)
        call_command("ingest", str(tmp_path / name), collection="Canteen" if name == "canteen.md" else "Kantine",
                     classification="public", grant=["analysts"], stdout=StringIO())


def ask(analyst, parts, question, collection="Canteen"):
    answer = answer_question(analyst, question, parts, collections=[collection])
    trace = LedgerEntry.objects.get(target_id=answer.trace_id)
    assert trace.details["outcome"] == answer.outcome
    return answer, trace


@pytest.mark.parametrize(("pieces", "detail"), [
    ([""], "The model's answer is empty."),
    (["The canteen opens at noon and it is open and it is open and it is open and it is open [1]."],
     "The model's answer repeats itself."),
    (["The canteen opens at noon, and after that the canteen stays open while the cooks"],  # cut by max_tokens
     "The model's answer cites no quote; uses words its quotes do not."),
])
def test_a_model_answer_that_is_empty_repetitive_or_cut_off_leaves_the_quotes(canteen, analyst, parts, external_llm,
                                                                               pieces, detail):
    external_llm.pieces = pieces

    answer, trace = ask(analyst, parts, "When does the canteen open?")

    assert (answer.action, answer.outcome) == ("answered", "quoted")
    assert answer.text == "The documents say:\n\u201cThe canteen opens at noon and closes at three.\u201d [1]"
    # The analyst reads why in plain words; the officer's trace keeps what exactly the check found.
    assert answer.flags == ["The model's sentence said something the quotes do not say, or only part of it."]
    assert {"name": "grounding", "passed": False, "detail": detail} in trace.details["output_checks"]
    assert unsealed(trace)["raw_answer"] == "".join(pieces)


def test_a_grounded_model_answer_is_shown_with_its_quotes(canteen, analyst, parts, external_llm):
    external_llm.pieces = ["It opens", " at noon [1]."]

    answer, _ = ask(analyst, parts, "When does the canteen open?")

    assert (answer.outcome, answer.text, answer.cited) == ("answered", "It opens at noon [1].", (1,))
    assert [quote.text for quote in answer.evidence.quotes] == ["The canteen opens at noon and closes at three."]


def test_a_collection_with_no_usable_passages_does_not_answer(canteen, analyst, parts, external_llm):
    Collection.objects.create(name="Empty").groups.set(Collection.objects.get(name="Canteen").groups.all())

    answer, trace = ask(analyst, parts, "When does the canteen open?", collection="Empty")

    assert (answer.outcome, answer.text, answer.passages) == ("not_found", "The documents don't answer this.", ())
    assert external_llm.requests == []


def test_passages_in_another_language_end_in_an_outcome_and_a_trace(canteen, analyst, parts, external_llm):
    external_llm.pieces = ["The canteen opens at 12 [1]."]

    answer, trace = ask(analyst, parts, "When does the canteen open?", collection="Kantine")

    assert answer.outcome in ("answered", "quoted", "not_found")
    if answer.outcome != "not_found":  # whatever is shown is the German text itself, quoted verbatim
        assert all(quote.text in KANTINE for quote in answer.evidence.quotes)
    assert trace.details["evidence"]["confidence"] >= 0
