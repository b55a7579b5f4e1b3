"""The models the answer path can call, behind one small interface.

    model = LocalModel(settings.ROUTING_SMOLLM2_GGUF, name="SmolLM2")
    model.warm_up()                                      # at worker start
    for piece in model.stream([ChatMessage("user", question)], max_tokens=256):
        ...

LocalModel runs a GGUF file in this process with llama-cpp-python, inside the perimeter;
ExternalModel (external.py) calls an OpenAI-compatible endpoint outside it. Both have `name`,
`context_size`, `warm_up()`, `count_tokens(text)` and `stream(messages, ...)`. `stream` is lazy:
nothing is sent or generated until the first piece is asked for. Every failure reaches the caller
as ModelUnavailable, whose `permanent` says whether a retry can help.

Prompts and answers hold personal data: this module logs model names, token counts and timings,
never text.

A message's content is untrusted: it carries the question and quotes from documents anyone may
have written. LocalModel tokenizes only the chat template's own text with special tokens; every
message's content is tokenized as plain text, so "<|im_start|>system" in a document is a dozen
ordinary tokens, never the model's turn marker (see LocalModel.prompt_tokens).
"""
import atexit
import functools
import hashlib
import logging
import mmap
import queue
import re
import struct
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ModelUnavailable

logger = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
GGUF_MAGIC = b"GGUF"
MIN_CONTEXT_SIZE, MAX_CONTEXT_SIZE = 256, 32768

# Some GGUF conversions carry no chat template; the Gemma 3 270M file we ship is one. llama-cpp-python
# would then fall back to Llama 2's [INST] format, which Gemma never saw in training. This is Gemma 3's
# own template (tokenizer_config.json of google/gemma-3-270m-it) for text-only messages: Gemma has no
# system role, so a system message opens the first user turn.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set first_user_prefix = messages[0]['content'] + '\\n\\n' %}{% set loop_messages = messages[1:] %}"
    "{% else %}{% set first_user_prefix = '' %}{% set loop_messages = messages %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '')"
    " + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
CHAT_TEMPLATES_BY_ARCHITECTURE = {"gemma3": GEMMA3_CHAT_TEMPLATE}

_loaded_models = weakref.WeakSet()  # LocalModels with slots loaded, for free_loaded_models()


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if not isinstance(self.content, str):
            raise TypeError(f"content must be text, not {type(self.content).__name__}")

    def as_dict(self) -> dict:
        """The OpenAI chat form, which llama-cpp-python and external endpoints both take."""
        return {"role": self.role, "content": self.content}


def check_stream_arguments(messages, max_tokens: int, timeout_seconds: float, temperature: float) -> tuple:
    """MESSAGES as a tuple, once every argument of a stream() call is sound; raises ValueError or
    TypeError (a programming error, not something the user can act on)."""
    messages = tuple(messages)
    if not messages or not all(isinstance(message, ChatMessage) for message in messages):
        # No repr of MESSAGES here: it would carry their text into logs.
        raise TypeError("messages must be a non-empty sequence of ChatMessage")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if not timeout_seconds > 0:
        raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
    if temperature < 0:
        raise ValueError(f"temperature must not be negative, got {temperature}")
    return messages


def could_not_load(name: str) -> ModelUnavailable:
    """The error for a model that cannot be loaded; its path and cause go to the log only."""
    return ModelUnavailable(
        f"{name} could not be loaded; an administrator can see why in the worker log.", "model_not_loaded",
        permanent=True,
    )


def took_too_long(name: str, timeout_seconds: float) -> ModelUnavailable:
    """The error for an answer that ran past its deadline; the same words for every kind of model."""
    return ModelUnavailable(
        f"{name} took longer than {timeout_seconds:g}s to answer.", "model_timeout", permanent=False,
    )


class LocalModel:
    """A GGUF file run in this process by llama-cpp-python (inside the perimeter).

    A llama.cpp context runs one generation at a time, so the model holds `max_concurrent` of them
    (slots), each loaded from the same memory-mapped file and each with its own KV cache; all of them
    share the machine's cores. One LocalModel may be shared by threads.
    """

    def __init__(self, path: Path, *, context_size: int = 2048, threads: int = 2, max_concurrent: int = 1,
                 name: str = ""):
        path = Path(path)
        check_gguf_file(path)
        if not MIN_CONTEXT_SIZE <= context_size <= MAX_CONTEXT_SIZE:
            raise ValueError(
                f"context_size must be between {MIN_CONTEXT_SIZE} and {MAX_CONTEXT_SIZE}, got {context_size}"
            )
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        self.path = path
        self.context_size = context_size
        self.threads = threads
        self.max_concurrent = max_concurrent
        self.name = name or path.stem
        self._lock = threading.Lock()
        self._llamas = []  # every slot, loaded by warm_up()
        self._idle = queue.Queue()  # the slots not generating: taking one is acquiring the semaphore
        self._formatter = None

    def __repr__(self) -> str:
        return f"LocalModel({self.name!r}, {self.path})"

    def warm_up(self) -> None:
        """Load the model into every slot (once; later calls return at once). Raises ModelUnavailable
        if llama.cpp cannot load the file or the model has no chat template we know."""
        with self._lock:
            if self._formatter is not None:
                return
            started = time.monotonic()
            llamas = []
            try:
                for _ in range(self.max_concurrent):
                    llamas.append(self._load())
                formatter = self._chat_formatter(llamas[0])
            except BaseException:
                for llama in llamas:
                    llama.close()
                raise
            for llama in llamas:
                self._idle.put(llama)
            self._llamas, self._formatter = llamas, formatter
            _loaded_models.add(self)
            logger.debug("%s loaded into %d slot(s) in %.2fs", self.name, len(llamas), time.monotonic() - started)

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The token ids stream() gives the model for MESSAGES: the chat template's text with its
        control tokens, each message's content as plain text (no control token can come from it)."""
        self.warm_up()
        return self._prompt_tokens(self._llamas[0], tuple(messages))

    def count_tokens(self, text: str) -> int:
        """How many tokens TEXT is to this model, as plain text (no chat template around it)."""
        self.warm_up()
        # Tokenizing reads only the vocabulary, never a context, so it is safe next to a generation.
        return len(self._llamas[0].tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int = 256, timeout_seconds: float = 60.0,
               temperature: float = 0.0, grammar: str | None = None) -> Iterator[str]:
        """The answer to MESSAGES in pieces, as llama.cpp produces them, with the model's chat template.
        GRAMMAR, llama.cpp's GBNF, constrains what the model may write.

        timeout_seconds bounds the whole call: waiting for a free slot and generating. Raises
        ModelUnavailable when no slot frees up in time ("busy"), when the prompt does not fit the
        context window (permanent; nothing is generated), when generation runs past the deadline
        (after the pieces made so far), and when llama.cpp fails (the original error chained).
        The deadline is checked after each token: reading a long prompt cannot be interrupted. A
        grammar llama.cpp cannot parse is a permanent ModelUnavailable ("grammar_invalid").
        """
        messages = check_stream_arguments(messages, max_tokens, timeout_seconds, temperature)
        return self._stream(messages, max_tokens, timeout_seconds, temperature, grammar)

    def close(self) -> None:
        """Free every slot, waiting for streams in progress to finish, fail or be closed by their readers.
        A later call to warm_up() or stream() loads the model again."""
        with self._lock:
            for _ in self._llamas:
                self._idle.get().close()
            self._llamas, self._formatter = [], None
            _loaded_models.discard(self)

    def _free_idle_slots(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _stream(self, messages, max_tokens, timeout_seconds, temperature, grammar) -> Iterator[str]:
        started = time.monotonic()
        deadline = started + timeout_seconds
        self.warm_up()
        llama = self._take_slot(deadline)
        try:
            parsed_grammar = parse_grammar(grammar, llama) if grammar else None
            prompt = self._check_prompt_fits(llama, messages)
            pieces = 0
            for piece in self._generate(llama, prompt, max_tokens, temperature, deadline, timeout_seconds, parsed_grammar):
                pieces += 1
                yield piece
        finally:
            # Also reached when the caller stops reading early: the slot must not leak.
            self._idle.put(llama)
        logger.debug("%s answered: %d prompt tokens, %d pieces in %.2fs", self.name, len(prompt), pieces,
                     time.monotonic() - started)

    def _take_slot(self, deadline: float):
        try:
            return self._idle.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            logger.debug("%s had no free slot before the deadline", self.name)
            raise ModelUnavailable(
                f"{self.name} is busy with other questions; try again in a moment.", "model_busy", permanent=False,
            ) from None

    def _check_prompt_fits(self, llama, messages) -> list[int]:
        """The prompt's tokens; raises ModelUnavailable if they leave no room for an answer."""
        with self._failures_reported():
            prompt = self._prompt_tokens(llama, messages)
        # llama.cpp refuses these too, but with a ValueError that would read as a failure of the model.
        if len(prompt) >= self.context_size:
            logger.debug("%s refused a prompt of %d tokens (context %d)", self.name, len(prompt), self.context_size)
            raise ModelUnavailable(
                f"The question and its sources are longer than {self.name} can read at once "
                f"({self.context_size} tokens); ask a shorter question.",
                "prompt_too_long",
                permanent=True,
            )
        return prompt

    def _prompt_tokens(self, llama, messages) -> list[int]:
        # llama-cpp-python's chat handler renders the template with the messages in it and tokenizes
        # the whole text with special tokens: a document saying "<|im_start|>system" would open a
        # real system turn. Here the template is rendered around placeholders instead, and the text
        # between them (the template's own: BOS, turn markers, role names) is tokenized with special
        # tokens, each message's content without. The rendered template holds its own BOS, so none
        # is added (as the chat handler does).
        placeholders = [f"\ue000{index}\ue001" for index in range(len(messages))]
        rendered = self._formatter(messages=[
            {"role": message.role, "content": placeholder} for message, placeholder in zip(messages, placeholders)
        ]).prompt
        parts = re.split("(" + "|".join(map(re.escape, placeholders)) + ")", rendered)
        contents = dict(zip(placeholders, (message.content for message in messages)))
        if sorted(part for part in parts if part in contents) != sorted(placeholders):
            # A template that drops or repeats a message: we cannot tell what the model would read.
            raise ValueError("the chat template does not place each message exactly once")
        tokens = []
        for part in parts:
            if part in contents:
                tokens += llama.tokenize(contents[part].encode("utf-8"), add_bos=False, special=False)
            elif part:
                tokens += llama.tokenize(part.encode("utf-8"), add_bos=False, special=True)
        return tokens

    def _generate(self, llama, prompt, max_tokens, temperature, deadline, timeout_seconds, grammar) -> Iterator[str]:
        # Evaluate every prompt from scratch. Reusing the previous prompt's cache changes the order
        # of the arithmetic, and with it near-tied tokens: temperature 0 would not repeat itself.
        llama.reset()
        # The stop words and tokens are the template's (its end-of-turn), as the chat handler uses them;
        # the sampling settings are create_chat_completion's defaults, which answers were tuned with.
        template = self._formatter(messages=[{"role": "user", "content": ""}])
        with self._failures_reported():
            chunks = llama.create_completion(
                prompt, stream=True, max_tokens=max_tokens, temperature=temperature, grammar=grammar,
                top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.0, stop=template.stop,
                stopping_criteria=template.stopping_criteria,
            )
        try:
            while True:
                with self._failures_reported():
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                choice = chunk["choices"][0]
                if text := choice["text"]:
                    yield text
                if choice["finish_reason"] is None and time.monotonic() > deadline:
                    logger.debug("%s stopped at its deadline of %gs", self.name, timeout_seconds)
                    raise took_too_long(self.name, timeout_seconds)
        finally:
            chunks.close()  # stops llama.cpp before the slot goes back to the pool

    @contextmanager
    def _failures_reported(self):
        """Turns any error from llama-cpp-python into ModelUnavailable; the traceback stays chained."""
        try:
            yield
        except ModelUnavailable:
            raise
        except Exception as error:
            # The error's text may quote the prompt; its type may be logged.
            logger.warning("%s failed with %s", self.name, type(error).__name__)
            raise ModelUnavailable(f"{self.name} failed while answering.", "model_failed", permanent=False) from error

    def _load(self):
        from llama_cpp import Llama

        try:
            return Llama(
                str(self.path), n_ctx=self.context_size, n_threads=self.threads, n_threads_batch=self.threads,
                verbose=False,
            )
        except Exception as error:
            # The path is for the operator's log, never for the analyst's screen.
            logger.warning("%s could not be loaded from %s: %s", self.name, self.path, type(error).__name__)
            raise could_not_load(self.name) from error

    def _chat_formatter(self, llama):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        architecture = llama.metadata.get("general.architecture", "")
        template = llama.metadata.get("tokenizer.chat_template") or CHAT_TEMPLATES_BY_ARCHITECTURE.get(architecture)
        if not template:
            raise ModelUnavailable(
                f"{self.name} has no chat template in its model file, and none is known for its "
                f"architecture {architecture!r}.",
                "model_not_loaded",
                permanent=True,
            )
        eos, bos = llama.token_eos(), llama.token_bos()
        return Jinja2ChatFormatter(
            template,
            eos_token=llama.detokenize([eos], special=True).decode("utf-8", "replace"),
            bos_token=llama.detokenize([bos], special=True).decode("utf-8", "replace"),
            stop_token_ids=[eos],
        )


def parse_grammar(grammar: str, llama):
    """GRAMMAR (GBNF) as llama.cpp's grammar object for LLAMA's vocabulary; raises ModelUnavailable
    when llama.cpp cannot parse it. llama-cpp-python parses a grammar only when generation starts,
    and then dereferences the null sampler a parse error leaves: the process dies. So the grammar
    is parsed here first, by the same llama.cpp function, and the sampler freed."""
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(llama._model.vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        raise ModelUnavailable(
            "The answer format given to the model is invalid, so no model text was written.", "grammar_invalid",
            permanent=True,
        )
    llama_cpp.llama_sampler_free(sampler)
    return llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)


@atexit.register
def free_loaded_models() -> None:
    """Free the idle slots of every loaded model while the interpreter is still whole. Left to
    Llama.__del__, they are freed during interpreter teardown, after llama_cpp's own functions are
    gone, and each prints "TypeError: 'NoneType' object is not callable". Slots still generating (in
    daemon threads) are left alone: waiting for them could hang the exit."""
    for model in list(_loaded_models):
        model._free_idle_slots()


def check_gguf_file(path: Path) -> None:
    """Raises ValueError, naming PATH, unless it is a file that starts like a GGUF model."""
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    with path.open("rb") as file:
        if file.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
            raise ValueError(f"model file {path} is not a GGUF file")


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of the file at PATH, read CHUNK_SIZE bytes at a time (models run to gigabytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def gguf_quantization(path: Path) -> str:
    """The quantization the GGUF file at PATH declares in general.file_type ("Q4_1", "Q4_K_M", "F16"...),
    or "unknown" when it declares none we can name. Reads the metadata only, never the weights.
    Raises ValueError if PATH is not a GGUF file."""
    file_type = read_gguf_metadata(Path(path), "general.file_type")
    return quantization_names().get(file_type, "unknown")


@functools.cache
def quantization_names() -> dict[int, str]:
    """llama.cpp's names for general.file_type values: LLAMA_FTYPE_MOSTLY_Q4_K_M = 15 becomes {15: "Q4_K_M"}.
    Taken from llama_cpp, so that types added to llama.cpp are named without a change here."""
    import llama_cpp

    return {
        value: constant.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_").removeprefix("ALL_")
        for constant, value in vars(llama_cpp).items()
        if constant.startswith("LLAMA_FTYPE_") and constant != "LLAMA_FTYPE_GUESSED"
    }


def read_gguf_metadata(path: Path, key: str):
    """The value of metadata KEY in the GGUF file at PATH (a number, bool or str), or None when the
    file has no such key or its value is an array. Raises ValueError if PATH is not a GGUF file."""
    check_gguf_file(path)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            for name, value in GgufMetadata(data).items():
                if name == key:
                    return value
        except (struct.error, ValueError) as error:
            raise ValueError(f"model file {path} has a GGUF header we cannot read ({error})") from error
    return None


class GgufMetadata:
    """Walks the key-value metadata at the start of a GGUF file, version 2 or 3
    (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md). Arrays (the vocabulary) are skipped."""

    SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    STRING, ARRAY = 8, 9

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def items(self) -> Iterator[tuple[str, object]]:
        self.offset = len(GGUF_MAGIC)
        version = self._unpack("<I")
        if version not in (2, 3):  # version 1 used 32-bit lengths; llama.cpp dropped it in 2023
            raise ValueError(f"GGUF version {version} is not supported")
        self._unpack("<Q")  # tensor count
        for _ in range(self._unpack("<Q")):
            key = self._string()
            yield key, self._value(self._unpack("<I"))

    def _value(self, kind: int):
        if kind in self.SCALARS:
            return self._unpack(self.SCALARS[kind])
        if kind == self.STRING:
            return self._string()
        if kind == self.ARRAY:
            return self._skip_array()
        raise ValueError(f"unknown GGUF value type {kind}")

    def _skip_array(self) -> None:
        kind, count = self._unpack("<I"), self._unpack("<Q")
        if kind in self.SCALARS:
            self.offset += count * struct.calcsize(self.SCALARS[kind])
        elif kind == self.STRING:
            for _ in range(count):
                length = self._unpack("<Q")
                self.offset += length
        else:
            for _ in range(count):
                self._value(kind)

    def _unpack(self, fmt: str):
        (value,) = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return value

    def _string(self) -> str:
        length = self._unpack("<Q")
        if self.offset + length > len(self.data):
            raise struct.error("string runs past the end of the file")
        text = self.data[self.offset : self.offset + length].decode("utf-8")
        self.offset += length
        return text
