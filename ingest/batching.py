"""Indexing many documents at once: the steps of index_document, run over batches of documents so
that two cores work at the same time.

    for tag, document in index_documents(((name, document) for ...), parts, scanner):
        ...  # each document READY, FAILED or untouched, in the order given

Documents are parsed and chunked in this process and gathered into batches of about
BATCH_CHUNKS chunks. A batch's chunks go to the PII scanner in its own process
(guardrails.pii.ScannerProcess) while this process labels, embeds and stores the batch before it:
the scan and the embedding, the two costly steps, run on different cores (the passage embedder
keeps to one thread for that reason). The vector store is optimized once per batch, not after
each document.

What index_document promises holds for each document: it is READY only once its points and its
rows are written, with its own document.indexed event; a document that fails fails alone, with
its reason; a document erased meanwhile leaves nothing behind. When a step of the whole batch
fails (the scan's process died, the embedder broke), each document of that batch fails with the
error id, and the next batch goes on.
"""
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from appliance.runtime import WorkerParts, scanner_process
from ingest.indexing import (
    Indexing, claim, finish, label, labelling_policy, parse, record_failure, refreshed,
    retire_previous_version, store,
)
from ingest.models import Document

# Starting the scanner's process takes a few seconds (spaCy and Presidio load in it): worth it
# from a handful of documents on.
SCAN_PROCESS_MIN_DOCUMENTS = 8

# About nine documents of 30 chunks: enough to keep the scanner's process busy while this one
# embeds, small enough that the first documents are READY within seconds.
BATCH_CHUNKS = 256

Tag = TypeVar("Tag")


class Scanner(Protocol):
    def submit(self, texts: list[str]) -> Future: ...


class ScanHere:
    """A Scanner that scans in this process, at once: for a few documents, where starting a
    scanner process would cost more than it saves."""

    def __init__(self, parts: WorkerParts):
        self.parts = parts

    def submit(self, texts: list[str]) -> Future:
        future = Future()
        try:
            future.set_result(self.parts.scanner.scan(texts))
        except Exception as error:
            future.set_exception(error)
        return future


def scanner_for(document_count: int, parts: WorkerParts) -> Scanner:
    """The scanner's process for DOCUMENT_COUNT documents or more, else this process's scanner."""
    if document_count >= SCAN_PROCESS_MIN_DOCUMENTS:
        return scanner_process()
    return ScanHere(parts)


@dataclass
class Batch:
    entries: list[tuple[object, Document | None]] = field(default_factory=list)
    works: list[Indexing] = field(default_factory=list)
    findings: Future | None = None

    @property
    def chunk_count(self) -> int:
        return sum(len(work.drafts) for work in self.works)


def index_documents(
    items: Iterable[tuple[Tag, Document | None]], parts: WorkerParts, scanner: Scanner, *,
    batch_chunks: int = BATCH_CHUNKS,
) -> Iterator[tuple[Tag, Document | None]]:
    """Index the documents of ITEMS (tag, document), yielding each item back, in order, with its
    document as the database now holds it: READY or FAILED, or untouched when it was not waiting
    to be indexed. An item without a document passes through. ITEMS is read lazily, a batch
    ahead. Raises nothing for a bad document."""
    previous = None
    for batch in parsed_batches(items, parts, batch_chunks):
        batch.findings = scanner.submit([text for work in batch.works for text in work.texts])
        if previous is not None:
            yield from complete(previous, parts)  # while the scanner reads this batch
        previous = batch
    if previous is not None:
        yield from complete(previous, parts)


def parsed_batches(items, parts: WorkerParts, batch_chunks: int) -> Iterator[Batch]:
    batch = Batch()
    for tag, document in items:
        batch.entries.append((tag, document))
        if document is not None and claim(document):
            try:
                batch.works.append(parse(document))
            except Exception as error:
                record_failure(document, parts, error)
        if batch.chunk_count >= batch_chunks:
            yield batch
            batch = Batch()
    if batch.entries:
        yield batch


def complete(batch: Batch, parts: WorkerParts) -> Iterator[tuple[object, Document | None]]:
    """Label, embed, store and finish the documents of BATCH, whose scan was submitted."""
    works = batch.works
    try:
        findings = batch.findings.result()
        policy = labelling_policy()
        start = 0
        for work in list(works):
            count = len(work.drafts)
            if not each(work, parts, label, work, findings[start:start + count], policy):
                works.remove(work)
            start += count
        vectors = parts.passage_embedder.embed([text for work in works for text in work.searchable])
        start = 0
        for work in list(works):
            count = len(work.searchable)
            if not each(work, parts, store, work, vectors[start:start + count], parts):
                works.remove(work)
            start += count
        parts.store.optimize()
    except Exception as error:  # a step of the whole batch: each of its documents fails with it
        for work in works:
            record_failure(work.document, parts, error)
        works = []
    for work in works:
        if each(work, parts, finish, work, policy):
            retire_previous_version(work.document, parts)
    for tag, document in batch.entries:
        yield tag, (refreshed(document) if document is not None else None)


def each(work: Indexing, parts: WorkerParts, step, *args) -> bool:
    """Run STEP for one document; False, with the failure recorded on it, when it raised."""
    try:
        step(*args)
    except Exception as error:
        record_failure(work.document, parts, error)
        return False
    return True
