"""LocalModel runs the real shipped GGUF files through llama-cpp-python."""
import hashlib
import logging
import struct
import threading
import time

import pytest
from django.conf import settings

from appliance.errors import ModelUnavailable
from appliance.routing.generation import ChatMessage, LocalModel, file_sha256, gguf_quantization

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one sentence.")]


@pytest.fixture(scope="module")
def smollm2():
    model = LocalModel(settings.ROUTING_SMOLLM2_GGUF, name="SmolLM2")
    model.warm_up()
    yield model
    model.close()


@pytest.fixture(scope="module")
def reference_answer(smollm2) -> str:
    return "".join(smollm2.stream(QUESTION, max_tokens=40))


def failure_of(pieces) -> tuple[ModelUnavailable, list[str]]:
    """The error that ends PIECES, and the pieces that came before it."""
    received = []
    with pytest.raises(ModelUnavailable) as raised:
        for piece in pieces:
            received.append(piece)
    return raised.value, received


def write_gguf(path, metadata: dict[str, str]):
    """A GGUF file (version 3, no tensors) with string METADATA."""
    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value.encode())) + value.encode()

    items = b"".join(text(key) + struct.pack("<I", 8) + text(value) for key, value in metadata.items())
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)) + items)
    return path


class StreamHoldingTheSlot:
    """Holds one of MODEL's slots with a stream in another thread until the with-block ends; `answer`
    and `finished` are set once that stream is done."""

    def __init__(self, model: LocalModel):
        self.model = model
        self.answer = ""
        self.finished = None
        self._first_piece = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._stream)

    def __enter__(self):
        self._thread.start()
        assert self._first_piece.wait(timeout=30)
        return self

    def __exit__(self, *exc_info):
        self._release.set()
        self._thread.join(timeout=30)

    def _stream(self):
        pieces = self.model.stream(QUESTION, max_tokens=40, timeout_seconds=30)
        self.answer = next(pieces)
        self._first_piece.set()
        self._release.wait(timeout=30)
        self.answer += "".join(pieces)
        self.finished = time.monotonic()


def test_it_streams_an_answer_in_several_pieces(smollm2):
    pieces = list(smollm2.stream(QUESTION, max_tokens=40))

    assert len(pieces) > 1
    assert "Paris" in "".join(pieces)


def test_it_gives_the_same_answer_twice_at_temperature_zero(smollm2, reference_answer):
    assert "".join(smollm2.stream(QUESTION, max_tokens=40)) == reference_answer


def test_it_counts_more_tokens_for_more_text(smollm2):
    short = smollm2.count_tokens("Paris")
    longer = smollm2.count_tokens("Paris is the capital of France.")

    assert 0 < short < longer
    assert smollm2.count_tokens("") == 0


def test_it_refuses_a_prompt_longer_than_the_context_window_before_generating():
    model = LocalModel(settings.ROUTING_SMOLLM2_GGUF, context_size=256, name="SmolLM2")
    sources = ChatMessage("system", "Sources: " + "The supplier contract renews every March. " * 40)

    error, received = failure_of(model.stream([sources, *QUESTION]))

    assert error.message == (
        "The question and its sources are longer than SmolLM2 can read at once (256 tokens); ask a shorter question."
    )
    assert error.code == "prompt_too_long"
    assert error.permanent is True
    assert received == []
    model.close()


def test_it_stops_at_the_timeout(smollm2, reference_answer):
    error, received = failure_of(smollm2.stream(QUESTION, max_tokens=200, timeout_seconds=0.05))

    assert error.message == "SmolLM2 took longer than 0.05s to answer."
    assert error.code == "model_timeout"
    assert error.permanent is False
    assert reference_answer.startswith("".join(received))
    # The slot went back, in a state that answers as before.
    assert "".join(smollm2.stream(QUESTION, max_tokens=40)) == reference_answer


def test_it_yields_what_it_had_before_the_timeout(smollm2, reference_answer):
    received = []

    with pytest.raises(ModelUnavailable) as raised:
        for piece in smollm2.stream(QUESTION, max_tokens=40, timeout_seconds=2.0):
            received.append(piece)
            time.sleep(2.0)  # a slow reader: the deadline passes before the second piece

    assert raised.value.message == "SmolLM2 took longer than 2s to answer."
    assert len(received) == 1
    assert reference_answer.startswith(received[0])


def test_it_tells_a_second_caller_it_is_busy_when_no_slot_frees_up_in_time(smollm2):
    with StreamHoldingTheSlot(smollm2) as first:
        started = time.monotonic()
        error, received = failure_of(smollm2.stream(QUESTION, timeout_seconds=0.2))
        waited = time.monotonic() - started

    assert error.message == "SmolLM2 is busy with other questions; try again in a moment."
    assert error.code == "model_busy"
    assert error.permanent is False
    assert received == []
    assert waited >= 0.2
    assert "Paris" in first.answer


def test_it_makes_a_second_caller_wait_for_the_slot(smollm2, reference_answer):
    second = {}

    def ask_while_the_slot_is_taken():
        second["answer"] = "".join(smollm2.stream(QUESTION, max_tokens=40, timeout_seconds=30))
        second["finished"] = time.monotonic()

    with StreamHoldingTheSlot(smollm2) as first:
        waiting = threading.Thread(target=ask_while_the_slot_is_taken)
        waiting.start()
        time.sleep(0.3)
        assert "answer" not in second  # still waiting: the first stream holds the only slot
    waiting.join(timeout=30)

    assert second["answer"] == reference_answer
    assert second["finished"] > first.finished


def test_it_runs_as_many_streams_at_once_as_it_has_slots(reference_answer):
    model = LocalModel(settings.ROUTING_SMOLLM2_GGUF, max_concurrent=2, name="SmolLM2")

    with StreamHoldingTheSlot(model):
        assert "".join(model.stream(QUESTION, max_tokens=40, timeout_seconds=10)) == reference_answer
    model.close()


def test_it_frees_the_slot_when_the_caller_stops_reading(smollm2, reference_answer):
    pieces = smollm2.stream(QUESTION, max_tokens=40)
    next(pieces)
    pieces.close()

    assert "".join(smollm2.stream(QUESTION, max_tokens=40, timeout_seconds=30)) == reference_answer


def test_it_reports_a_failure_to_run_the_prompt_as_model_unavailable(smollm2, caplog):
    unencodable = [ChatMessage("user", "Which contract is \ud800 this?")]  # a lone surrogate has no UTF-8

    error, received = failure_of(smollm2.stream(unencodable))

    assert error.message == "SmolLM2 failed while answering."
    assert error.code == "model_failed"
    assert error.permanent is False
    assert isinstance(error.__cause__, UnicodeEncodeError)
    assert caplog.messages == ["SmolLM2 failed with UnicodeEncodeError"]


def test_it_never_logs_the_question_or_the_answer(smollm2, reference_answer, caplog):
    with caplog.at_level(logging.DEBUG, logger="appliance.routing"):
        list(smollm2.stream(QUESTION, max_tokens=40))

    assert "SmolLM2 answered" in caplog.text
    assert "France" not in caplog.text
    assert reference_answer not in caplog.text


def test_it_rejects_a_file_that_is_not_gguf(tmp_path):
    notes = tmp_path / "notes.gguf"
    notes.write_text("not a model")

    with pytest.raises(ValueError) as raised:
        LocalModel(notes)

    assert str(raised.value) == f"model file {notes} is not a GGUF file"


def test_it_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError) as raised:
        LocalModel(tmp_path / "missing.gguf")

    assert str(raised.value) == f"model file {tmp_path / 'missing.gguf'} does not exist"


def test_it_rejects_a_context_size_out_of_range():
    with pytest.raises(ValueError) as raised:
        LocalModel(settings.ROUTING_SMOLLM2_GGUF, context_size=128)

    assert str(raised.value) == "context_size must be between 256 and 32768, got 128"


def test_it_reports_a_gguf_that_llama_cpp_cannot_load_without_showing_its_path(tmp_path, caplog):
    broken = write_gguf(tmp_path / "broken.gguf", {"general.architecture": "nonsense"})

    with pytest.raises(ModelUnavailable) as raised:
        LocalModel(broken, name="Broken").warm_up()

    # The analyst reads the message; only the operator's log names the file.
    assert raised.value.message == "Broken could not be loaded; an administrator can see why in the worker log."
    assert raised.value.permanent is True
    assert str(broken) in caplog.text


def test_it_refuses_a_grammar_llama_cpp_cannot_parse_and_keeps_running(smollm2):
    with pytest.raises(ModelUnavailable) as raised:
        list(smollm2.stream([ChatMessage("user", "Say hi")], max_tokens=8, grammar="root ::= (unclosed"))

    assert (raised.value.code, raised.value.permanent) == ("grammar_invalid", True)
    # The process is alive and the slot went back: the same model answers under a grammar it can follow.
    assert "".join(smollm2.stream([ChatMessage("user", "Yes or no?")], max_tokens=4, grammar='root ::= "yes" | "no"')) in (
        "yes", "no")


def test_it_hashes_a_file_as_hashlib_does(tmp_path):
    data = bytes(range(256)) * 5000
    (tmp_path / "model.bin").write_bytes(data)

    assert file_sha256(tmp_path / "model.bin", chunk_size=4096) == hashlib.sha256(data).hexdigest()


def test_it_reads_the_quantization_from_the_gguf_metadata():
    assert gguf_quantization(settings.ROUTING_SMOLLM2_GGUF) == "Q4_1"  # general.file_type 3
    assert gguf_quantization(settings.ROUTING_GEMMA3_GGUF) == "Q4_K_M"  # general.file_type 15


def test_it_calls_the_quantization_unknown_when_the_file_does_not_say(tmp_path):
    bare = write_gguf(tmp_path / "bare.gguf", {"general.architecture": "llama"})

    assert gguf_quantization(bare) == "unknown"


def test_it_streams_an_answer_from_gemma():
    gemma = LocalModel(settings.ROUTING_GEMMA3_GGUF, name="Gemma 3")  # its GGUF has no chat template: ours is used
    messages = [ChatMessage("system", "Answer in one sentence."), ChatMessage("user", "What is the capital of France?")]

    pieces = list(gemma.stream(messages, max_tokens=32))

    assert len(pieces) > 1
    assert "".join(pieces).strip()
    gemma.close()
