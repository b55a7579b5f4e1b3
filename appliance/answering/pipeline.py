"""The answer path, top to bottom: screen -> retrieve -> route -> select evidence -> generate -> check -> trace.

    answer = answer_question(user, "What is the notice period?", parts, collections=["Contracts"])

Runs where the models and the vector store are (the worker, or a command that borrowed them).
Correctness comes from the design, not from the model's size: the appliance picks the evidence
(verbatim sentences of the retrieved passages) and decides whether it answers the question at
all; a model may then write a short answer from that evidence, which is shown only if every
figure and name in it is in the quotes it cites. Every question ends as exactly one outcome:

- answered: the model's text, grounded in the quotes shown under it;
- quoted: the evidence itself ("The documents say: ..."), and why the model's text was not shown;
- not_found: the documents do not answer this; the closest passages are offered as possibly related;
- refused: no model the question's sensitivity allows could answer;
- blocked: screening refused the question; the analyst reads why in plain words (guardrails/reasons.py).

Every outcome writes one trace (appliance/audit/recording.record_answer_trace).
"""
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from appliance.answering.checking import CheckedAnswer
from appliance.answering.evidence import Evidence
from appliance.answering.prompting import Passage, answer_grammar, build_messages, passages_from_hits
from appliance.audit.recording import record_answer_trace
from appliance.errors import ApplianceError, ModelUnavailable
from appliance.retrieval.searching import search_chunks
from appliance.routing.decision import REFUSE, Route, choose_route
from appliance.routing.egress import EgressRefused, route_inside
from appliance.routing.external import ExternalModel
from appliance.routing.generation import LocalModel
from appliance.routing.loaded import domain_vectors, model_for
from appliance.routing.registry import model_choices
from appliance.runtime import WorkerParts, answer_checker, evidence_selector, question_screener
from guardrails.publishing import current_policy
from guardrails.reasons import blocked_text, reasons_for
from guardrails.screening import Verdict
from guardrails.sensitivity import max_sensitivity
from ingest.models import Collection

logger = logging.getLogger(__name__)

ANSWERED, REFUSED, BLOCKED = "answered", "refused", "blocked"               # action: as before
QUOTED, NOT_FOUND = "quoted", "not_found"                                   # outcome: ANSWERED, QUOTED, NOT_FOUND, REFUSED or BLOCKED
NOT_FOUND_TEXT = "The documents don't answer this."
# When the closest sentences are shown (a near miss, below), a flat "don't answer this" above a
# sentence that may answer it reads as a contradiction: the analyst is asked to judge instead.
NEAR_MISS_TEXT = "The documents may not answer this."
RELATED_PASSAGES = 3
# A question the documents don't answer whose best evidence came at least this close (about half
# the judgement's threshold) is shown the closest sentences: "how do I carry over holiday" may be answered by
# a sentence the judgement doubted, and the analyst can tell. Further off, they would be noise.
NEAR_MISS = 0.25


class CollectionNotGranted(ApplianceError):
    code = "collection_not_granted"
    status = 403


class Progress:
    """What the analyst sees while waiting; the chat writes it to the exchange row, `ask` ignores it."""

    def stage(self, name: str) -> None:
        """NAME: "screening", "searching", "writing" or "checking"."""

    def evidence(self, evidence: Evidence, passages: Sequence[Passage]) -> None:
        """The quotes, as soon as they are chosen (before any model runs)."""

    def text(self, text: str) -> None:
        """The model's answer so far, as far as the output rails have checked it."""


@dataclass(frozen=True)
class Answer:
    trace_id: str
    action: str                      # ANSWERED (for outcomes answered, quoted, not_found), REFUSED or BLOCKED
    outcome: str                     # ANSWERED, QUOTED, NOT_FOUND, REFUSED or BLOCKED
    text: str                        # the answer, the quotes, or what the analyst is told instead
    route: Route | None
    verdict: Verdict
    passages: tuple[Passage, ...] = ()
    evidence: Evidence | None = None
    checked: CheckedAnswer | None = None
    why_quoted: tuple[str, ...] = ()  # for QUOTED: why the model's text is not shown
    reasons: tuple[str, ...] = ()     # for BLOCKED: why, in plain words (guardrails/reasons.py); never a score or the text matched
    timings: dict = field(default_factory=dict)

    @property
    def cited(self) -> tuple[int, ...]:
        """The passages the shown text rests on: the model's citations, or the quotes' passages."""
        if self.outcome == ANSWERED and self.checked:
            return tuple(dict.fromkeys((*self.checked.cited, *self.evidence.cited)))
        if self.outcome == QUOTED and self.evidence:
            return self.evidence.cited
        return ()

    @property
    def citations(self) -> list[Passage]:
        cited = set(self.cited)
        return [passage for passage in self.passages if passage.number in cited]

    @property
    def shown_quotes(self) -> tuple:
        """The quotes the analyst sees: the evidence of an answered or quoted question; for not_found,
        the closest sentences when they came near (offered as possibly related, never as an answer)."""
        if not self.evidence or self.outcome not in (ANSWERED, QUOTED, NOT_FOUND):
            return ()
        if self.outcome == NOT_FOUND and self.evidence.confidence < NEAR_MISS:
            return ()
        return self.evidence.quotes

    @property
    def related(self) -> list[Passage]:
        """For NOT_FOUND: the closest passages, offered as possibly related."""
        return list(self.passages[:RELATED_PASSAGES]) if self.outcome == NOT_FOUND else []

    @property
    def flags(self) -> list[str]:
        return list(self.why_quoted) + list(self.reasons) + (
            self.checked.flags if self.checked and self.outcome == ANSWERED else [])

    def as_dict(self) -> dict:
        """What `manage.py ask` prints and the API returns."""
        route = self.route.as_dict() if self.route else None
        by_number = {passage.number: passage for passage in self.passages}
        return {
            "trace_id": self.trace_id,
            "action": self.action,
            "outcome": self.outcome,
            "route": {"model": route["model"], "perimeter": route["perimeter"], "reason": route["reason"]} if route else None,
            "citations": [source_of(p) for p in self.citations],
            "answer": self.text,
            "evidence": [quote.as_dict() | source_of(by_number[quote.passage]) for quote in self.shown_quotes],
            "related": [source_of(p) for p in self.related],
            "flags": self.flags,
            "reasons": list(self.reasons),
        }


def source_of(passage: Passage) -> dict:
    return {"n": passage.number, "document": passage.document, "document_id": passage.document_id,
            "section": passage.section, "page": passage.page, "chunk_id": passage.chunk_id}


def answer_question(
    user, question: str, parts: WorkerParts, *, collections: Sequence[str] | None = None,
    conversation_sensitivity: str = "public", progress: Progress | None = None, history: Sequence[str] = (),
) -> Answer:
    """Raises QuestionInvalid for a question that is not text, CollectionNotGranted for a collection
    the user may not ask about; every other outcome is an Answer with its trace written. HISTORY:
    the conversation's earlier questions that went outside, which the egress gate reads with this one."""
    progress = progress or Progress()
    trace_id = uuid.uuid4().hex
    asked_at = time.perf_counter()
    timings: dict[str, float] = {}
    asked = granted_collections(user, collections)

    progress.stage("screening")
    started = time.perf_counter()
    policy = current_policy()
    verdict = question_screener().run(question, policy)
    timings["screen_ms"] = elapsed_ms(started)
    if verdict.is_blocked:
        answer = Answer(trace_id, BLOCKED, BLOCKED, blocked_text(verdict), None, verdict,
                        reasons=tuple(reasons_for(verdict)), timings=timings)
        return traced(answer, user, question, asked)

    progress.stage("searching")
    started = time.perf_counter()
    question_vector = parts.embedder.embed([question])[0]  # for retrieval, evidence and routing
    passages = tuple(passages_from_hits(
        search_chunks(question, asked, parts, limit=settings.ANSWERING_PASSAGES, vector=question_vector)
    ))
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
        answer = Answer(trace_id, REFUSED, REFUSED, route.reason, route, verdict, passages, timings=timings)
        return traced(answer, user, question, asked)

    started = time.perf_counter()
    evidence = evidence_selector().run(question, question_vector, passages)
    timings["evidence_ms"] = elapsed_ms(started)
    if not evidence.answers_question:
        text = NEAR_MISS_TEXT if evidence.quotes and evidence.confidence >= NEAR_MISS else NOT_FOUND_TEXT
        answer = Answer(trace_id, ANSWERED, NOT_FOUND, text, route, verdict, passages, evidence, timings=timings)
        return traced(answer, user, question, asked)
    progress.evidence(evidence, passages)
    timings["evidence_shown_ms"] = round((time.perf_counter() - asked_at) * 1000, 1)

    progress.stage("writing")
    conversation = (*history, question)
    written = write_answer(question, evidence, passages, route, policy, progress, asked_at, timings, conversation)
    if isinstance(written.failure, EgressRefused):
        # The egress gate found personal data the labels missed and sent nothing: answer inside.
        route = route_inside(route, written.failure, question_vector, model_choices(), domain_vectors(parts.embedder))
        if route.name == REFUSE:
            answer = Answer(trace_id, REFUSED, REFUSED, route.reason, route, verdict, passages, timings=timings)
            return traced(answer, user, question, asked)
        written = write_answer(question, evidence, passages, route, policy, progress, asked_at, timings)
    if written.failure is None and not written.checked.flags:
        answer = Answer(trace_id, ANSWERED, ANSWERED, written.checked.text, route, verdict, passages, evidence,
                        written.checked, timings=timings)
    else:
        why = (written.failure.message,) if written.failure else why_not_shown(written.checked)
        answer = Answer(trace_id, ANSWERED, QUOTED, quoted_text(evidence), route, verdict, passages, evidence,
                        written.checked, why_quoted=why, timings=timings)
    return traced(answer, user, question, asked, messages=written.messages, raw=written.raw,
                  error=written.failure.code if written.failure else "")


@dataclass(frozen=True)
class Written:
    """What the model wrote from the evidence, and what the output rails made of it."""

    messages: list
    raw: str
    checked: CheckedAnswer | None
    failure: ModelUnavailable | None


def write_answer(question: str, evidence: Evidence, passages: Sequence[Passage], route: Route, policy,
                 progress: Progress, asked_at: float, timings: dict, conversation: Sequence[str] = ()) -> Written:
    """The routed model's short answer from the quotes, checked. A model that cannot be loaded,
    fails, or runs out of time is a FAILURE: the analyst still gets the quotes."""
    messages = []
    stream = None
    started = time.perf_counter()
    try:
        model = model_for(route.model)
        messages, quotes = build_messages(
            question, evidence.quotes, context_size=route.model.context_size,
            answer_tokens=settings.ANSWERING_MAX_TOKENS, count_tokens=model.count_tokens,
        )

        def check(text: str, final: bool) -> CheckedAnswer:
            return answer_checker().run(text, passages=passages, quotes=quotes, question=question, policy=policy,
                                        final=final)

        grammar = answer_grammar(quotes) if isinstance(model, LocalModel) else None
        outside = {"conversation": conversation} if isinstance(model, ExternalModel) else {}  # for the egress gate
        stream = CheckedStream(lambda text: check(text, final=False), progress.text)
        for piece in model.stream(messages, max_tokens=settings.ANSWERING_MAX_TOKENS,
                                  timeout_seconds=settings.ANSWERING_TIMEOUT_SECONDS, grammar=grammar, **outside):
            stream.add(piece)
    except ModelUnavailable as error:
        timings["generate_ms"] = elapsed_ms(started)
        return Written(messages, stream.text if stream else "", None, error)
    timings["generate_ms"] = elapsed_ms(started)
    if stream.pieces:
        timings["first_piece_ms"] = round((stream.first_piece_at - asked_at) * 1000, 1)
        timings["last_piece_ms"] = round((stream.last_piece_at - asked_at) * 1000, 1)
    timings["pieces"] = len(stream.pieces)
    progress.stage("checking")
    started = time.perf_counter()
    checked = check(stream.text.strip(), final=True)
    timings["check_ms"] = elapsed_ms(started)
    return Written(messages, stream.text, checked, None)


# Why a model's sentence was not shown, in the analyst's words. The checks' own details (which
# figures, which words) stay in the trace for the officer: a 135M model's made-up figures
# ("12.12.12.12...") mean nothing to an analyst and read like part of the answer.
NOT_SHOWN_BECAUSE = {
    "grounding": "The model's sentence said something the quotes do not say, or only part of it.",
    "prompt echo": "The model repeated the question or its instructions instead of answering.",
    "personal data": "The model's sentence held personal data you may not see.",
    "outside links": "The model's sentence held links to outside sites.",
}


def why_not_shown(checked: CheckedAnswer) -> tuple[str, ...]:
    failed = [check.name for check in checked.checks if not check.passed]
    return tuple(dict.fromkeys(NOT_SHOWN_BECAUSE.get(name, f"The {name} check failed.") for name in failed))


def quoted_text(evidence: Evidence) -> str:
    """The evidence as the analyst reads it when no model text is shown."""
    quotes = "\n".join(f"\u201c{quote.display_text}\u201d [{quote.passage}]" for quote in evidence.quotes)
    return f"The documents say:\n{quotes}"


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
    or every collection granted to USER when NAMES is None. Raises CollectionNotGranted, with the
    same words for a collection that does not exist and one granted only to other teams."""
    granted = Collection.granted_to(user)
    if names is None:
        return list(granted)
    chosen = []
    for name in names:
        collection = granted.filter(name=name).first()
        if collection is None:
            # One answer whether the collection exists or is granted only to other teams: two would
            # let an analyst confirm the names of collections hidden from them.
            raise CollectionNotGranted(f"You have no collection named “{name}”.")
        chosen.append(collection)
    return chosen


def highest(levels) -> str:
    return max_sensitivity(*levels)


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def traced(answer: Answer, user, question: str, collections, **generation) -> Answer:
    record_answer_trace(answer, user, question, collections, **generation)
    return answer

