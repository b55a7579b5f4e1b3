"""The answer path, top to bottom: screen -> retrieve -> route -> generate -> check -> trace.

    answer = answer_question(user, "What is the notice period?", collections=["Contracts"])

Runs where the models and the vector store are (the worker, or a command that borrowed them).
Every outcome writes one trace (appliance/audit/recording.record_answer_trace): an answer, a
refusal (no allowed model could answer) and a block (screening refused the question).
"""
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from appliance.answering.checking import CheckedAnswer
from appliance.answering.prompting import Passage, build_messages, passages_from_hits
from appliance.audit.recording import record_answer_trace
from appliance.errors import ApplianceError, ModelUnavailable
from appliance.routing.decision import REFUSE, Route, choose_route
from appliance.routing.loaded import domain_vectors, model_for
from appliance.routing.registry import model_choices
from appliance.runtime import WorkerParts, answer_checker, question_screener
from guardrails.publishing import current_policy
from guardrails.screening import Verdict
from guardrails.sensitivity import max_sensitivity
from ingest.models import Collection
from appliance.retrieval.searching import search_chunks

logger = logging.getLogger(__name__)

ANSWERED, REFUSED, BLOCKED = "answered", "refused", "blocked"


class CollectionNotGranted(ApplianceError):
    code = "collection_not_granted"
    status = 403


@dataclass(frozen=True)
class Answer:
    trace_id: str
    action: str                      # ANSWERED, REFUSED or BLOCKED
    text: str                        # the answer, or what the analyst is told instead
    route: Route | None
    verdict: Verdict
    passages: tuple[Passage, ...] = ()
    checked: CheckedAnswer | None = None
    timings: dict = field(default_factory=dict)

    @property
    def citations(self) -> list[Passage]:
        cited = set(self.checked.cited) if self.checked else set()
        return [passage for passage in self.passages if passage.number in cited]

    def as_dict(self) -> dict:
        """What `manage.py ask` prints and the API returns."""
        route = self.route.as_dict() if self.route else None
        return {
            "trace_id": self.trace_id,
            "action": self.action,
            "route": {"model": route["model"], "perimeter": route["perimeter"], "reason": route["reason"]} if route else None,
            "citations": [
                {"n": p.number, "document": p.document, "document_id": p.document_id, "section": p.section, "page": p.page,
                 "chunk_id": p.chunk_id}
                for p in self.citations
            ],
            "answer": self.text,
            "flags": self.checked.flags if self.checked else [],
        }


def answer_question(
    user, question: str, parts: WorkerParts, *, collections: Sequence[str] | None = None,
    conversation_sensitivity: str = "public", show_partial: Callable[[str], None] | None = None,
) -> Answer:
    """Raises QuestionInvalid for a question that is not text, CollectionNotGranted for a collection
    the user may not ask about; every other outcome is an Answer with its trace written.
    SHOW_PARTIAL, if given, receives the answer so far while it is written, as far as it is checked."""
    trace_id = uuid.uuid4().hex
    asked_at = time.perf_counter()
    timings: dict[str, float] = {}
    asked = granted_collections(user, collections)

    started = time.perf_counter()
    policy = current_policy()
    verdict = question_screener().run(question, policy)
    timings["screen_ms"] = elapsed_ms(started)
    if verdict.is_blocked:
        answer = Answer(trace_id, BLOCKED, verdict.refusal, None, verdict, timings=timings)
        return traced(answer, user, question, asked)

    started = time.perf_counter()
    question_vector = parts.embedder.embed([question])[0]  # for retrieval and for routing
    passages = passages_from_hits(
        search_chunks(question, asked, parts, limit=settings.ANSWERING_PASSAGES, vector=question_vector)
    )
    timings["retrieve_ms"] = elapsed_ms(started)

    route = choose_route(
        {
            "question": "confidential" if verdict.is_sensitive else "public",
            "collections": highest(collection.classification for collection in asked),
            "chunks": highest(passage.sensitivity for passage in passages),
            "conversation": conversation_sensitivity,
        },
        question_vector, model_choices(), domain_vectors(parts.embedder),
    )
    if route.name == REFUSE:
        answer = Answer(trace_id, REFUSED, route.reason, route, verdict, tuple(passages), timings=timings)
        return traced(answer, user, question, asked)

    model = model_for(route.model)
    messages, passages = build_messages(
        question, passages, context_size=route.model.context_size, answer_tokens=settings.ANSWERING_MAX_TOKENS,
        count_tokens=model.count_tokens,
    )

    def check(text: str, final: bool) -> CheckedAnswer:
        return answer_checker().run(text, passages=passages, question=question, policy=policy, final=final)

    started = time.perf_counter()
    stream = CheckedStream(lambda text: check(text, final=False), show_partial)
    try:
        for piece in model.stream(messages, max_tokens=settings.ANSWERING_MAX_TOKENS,
                                  timeout_seconds=settings.ANSWERING_TIMEOUT_SECONDS):
            stream.add(piece)
    except ModelUnavailable as error:
        timings["generate_ms"] = elapsed_ms(started)
        answer = Answer(trace_id, REFUSED, error.message, route, verdict, tuple(passages), timings=timings)
        return traced(answer, user, question, asked, messages=messages, partial=stream.text, error=error.code)
    timings["generate_ms"] = elapsed_ms(started)
    if stream.pieces:
        timings["first_piece_ms"] = round((stream.first_piece_at - asked_at) * 1000, 1)
        timings["last_piece_ms"] = round((stream.last_piece_at - asked_at) * 1000, 1)
    timings["pieces"] = len(stream.pieces)

    started = time.perf_counter()
    checked = check(stream.text.strip(), final=True)
    timings["check_ms"] = elapsed_ms(started)
    answer = Answer(trace_id, ANSWERED, checked.text, route, verdict, tuple(passages), checked, timings)
    return traced(answer, user, question, asked, messages=messages, raw=stream.text)


class CheckedStream:
    """An answer as the model writes it, shown only as far as the output rails have checked it.

    The model's pieces are collected; at most every CHECK_EVERY_SECONDS, the text up to its last
    finished sentence is checked (links removed, personal data withheld: see checking.py) and
    passed to SHOW. The unfinished sentence is held back, so a phone number or a link that is
    still being written is never shown half-checked.
    """

    CHECK_EVERY_SECONDS = 0.25

    def __init__(self, check: Callable[[str], CheckedAnswer], show: Callable[[str], None] | None):
        self.check, self.show = check, show
        self.pieces: list[str] = []
        self.first_piece_at = self.last_piece_at = 0.0
        self.released = 0
        self.checked_at = 0.0

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def add(self, piece: str) -> None:
        self.last_piece_at = time.perf_counter()
        if not self.pieces:
            self.first_piece_at = self.last_piece_at
        self.pieces.append(piece)
        if self.show is None or time.monotonic() - self.checked_at < self.CHECK_EVERY_SECONDS:
            return
        text = self.text
        end = finished_sentences_end(text)
        if end > self.released:
            self.released, self.checked_at = end, time.monotonic()
            self.show(self.check(text[:end]).text)


FINISHED_SENTENCE = re.compile(r"(?:[.!?:]['\")\]]*|\[\d{1,3}\])\s|\n")


def finished_sentences_end(text: str) -> int:
    """Where the text of finished sentences ends (0: none finished yet)."""
    ends = [match.end() for match in FINISHED_SENTENCE.finditer(text)]
    return ends[-1] if ends else 0


def granted_collections(user, names: Sequence[str] | None) -> list[Collection]:
    """The collections to search: NAMES (each must exist and be granted to one of USER's teams),
    or every collection granted to USER when NAMES is None."""
    granted = Collection.granted_to(user)
    if names is None:
        return list(granted)
    chosen = []
    for name in names:
        collection = granted.filter(name=name).first()
        if collection is None:
            if not Collection.objects.filter(name=name).exists():
                raise CollectionNotGranted(f"There is no collection named “{name}”.", code="collection_unknown")
            raise CollectionNotGranted(f"The collection “{name}” is not granted to any of your teams.")
        chosen.append(collection)
    return chosen


def highest(levels) -> str:
    return max_sensitivity(*levels)


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def traced(answer: Answer, user, question: str, collections, **generation) -> Answer:
    record_answer_trace(answer, user, question, collections, **generation)
    return answer

