"""The heavy parts one worker process owns: the vector store, the embedder, the PII scanner, and the
question screener and answer checker built on the last two.

They are opened once per process and shared by its threads: Qdrant Edge lets only one process
open a shard, and loading the models per task would cost seconds each time. The web tier never
calls this; management commands that work in-process do, and get StoreUnavailable when a
running worker holds the embedded store.
"""
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from appliance.retrieval.embedding import Embedder
from appliance.retrieval.keywords import KeywordEncoder
from appliance.retrieval.store import VectorStore, open_store
from appliance.answering.checking import AnswerChecker
from appliance.answering.evidence import EvidenceSelector
from guardrails.pii import PiiScanner, ScannerProcess
from guardrails.screening import QuestionScreener


KEYWORDS = KeywordEncoder()  # stateless (BM25 token ids and weights): one for the whole process


@dataclass(frozen=True)
class WorkerParts:
    store: VectorStore
    embedder: Embedder  # questions, and what screening and the evidence judgement read
    scanner: PiiScanner
    passage_embedder: Embedder  # document passages at indexing time (int8, see retrieval/embedding.py)
    keywords: KeywordEncoder = KEYWORDS


_lock = threading.Lock()
_models: tuple[Embedder, PiiScanner] | None = None
_passage_embedder: Embedder | None = None
_store: VectorStore | None = None
_screener: QuestionScreener | None = None
_checker: AnswerChecker | None = None
_selector: EvidenceSelector | None = None
_scanner_process: ScannerProcess | None = None


def worker_parts(*, rebuild_store: bool = False) -> WorkerParts:
    """The process's parts, opened and warmed up on first use; with REBUILD_STORE, the vector store
    emptied and made anew first (`manage.py reindex --all`). Raises StoreUnavailable."""
    global _store
    with _lock:
        if rebuild_store and _store is not None:
            _store.close()
            _store = None
        # The store before the models: a command learns at once that a worker holds it, not after
        # loading the models for nothing.
        if _store is None:
            _store = open_store(rebuild=rebuild_store)
        store = _store
    embedder, scanner = _shared_models()
    return WorkerParts(store, embedder, scanner, _passages())


def question_screener() -> QuestionScreener:
    """The process's screener, warmed up on first use; it needs no store, so commands that only
    screen can run beside a worker."""
    global _screener
    embedder, scanner = _shared_models()
    with _lock:
        if _screener is None:
            screener = QuestionScreener(scanner=scanner, embedder=embedder)
            screener.warm_up()
            _screener = screener
        return _screener


def answer_checker() -> AnswerChecker:
    """The process's answer checker (output rails), warmed up on first use."""
    global _checker
    _embedder, scanner = _shared_models()
    with _lock:
        if _checker is None:
            checker = AnswerChecker(scanner=scanner)
            checker.warm_up()
            _checker = checker
        return _checker


def evidence_selector() -> EvidenceSelector:
    """The process's evidence selector, warmed up on first use."""
    global _selector
    embedder, _scanner = _shared_models()
    with _lock:
        if _selector is None:
            selector = EvidenceSelector(embedder=embedder, keywords=KEYWORDS)
            selector.warm_up()
            _selector = selector
        return _selector


def scanner_process() -> ScannerProcess:
    """The process's PII scanner in a child process, for ingesting many documents at once
    (ingest.batching); the child starts with the first scan."""
    global _scanner_process
    with _lock:
        if _scanner_process is None:
            _scanner_process = ScannerProcess()
        return _scanner_process


def _passages() -> Embedder:
    global _passage_embedder
    with _lock:
        if _passage_embedder is None:
            embedder = Embedder.for_passages_from_settings()
            embedder.warm_up()
            _passage_embedder = embedder
        return _passage_embedder


def _shared_models() -> tuple[Embedder, PiiScanner]:
    global _models
    with _lock:
        if _models is None:
            embedder = Embedder.from_settings()
            embedder.warm_up()
            scanner = PiiScanner()
            scanner.warm_up()
            _models = (embedder, scanner)
        return _models


def release_store() -> None:
    """Close the store (flushing it) so that another process may open it; models stay loaded."""
    global _store
    with _lock:
        if _store is not None:
            _store.close()
            _store = None


@contextmanager
def borrowed_parts(*, rebuild: bool = False) -> Iterator[WorkerParts]:
    """For commands that work in this process: the parts, with the store released afterwards so
    that a worker can open it again. Raises StoreUnavailable when a worker holds it now."""
    parts = worker_parts(rebuild_store=rebuild)
    try:
        yield parts
    finally:
        release_store()
