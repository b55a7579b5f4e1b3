"""Indexing one document: parse -> chunk -> scan for PII -> label -> (redact) -> embed -> store.

Runs in the worker. A bad document ends FAILED with a reason the admin can act on; it never
raises, so the worker goes on with the next one, and it never leaves half of itself in the
vector store.
"""
import hashlib
import logging
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appliance.audit.recording import record_event
from appliance.errors import IngestRejected
from appliance.retrieval.keywords import Keywords
from appliance.retrieval.store import ChunkPoint
from appliance.runtime import WorkerParts
from guardrails.injection import sentences_addressing_the_assistant
from guardrails.pii import PiiFinding, entity_counts, redact
from guardrails.models import PolicyVersion
from guardrails.policy import DEFAULT_RULES, Policy
from guardrails.sensitivity import explain_label, max_sensitivity, sensitivity_of_entities
from ingest.blobs import read_blob
from ingest.chunking import ChunkDraft, chunk_document
from ingest.claims import DOCUMENT_WORKING, claimable, lease_end, new_claim
from ingest.erasure import erase_document
from ingest.models import Chunk, Document
from ingest.parsing import parse_document

logger = logging.getLogger(__name__)
Status = Document.Status


@dataclass(frozen=True)
class PreparedChunk:
    chunk_id: str
    draft: ChunkDraft
    text: str  # what gets embedded, stored and later shown to models: redacted when the collection redacts
    sensitivity: str
    entity_types: tuple[str, ...]


class DocumentGone(Exception):
    """The document was marked for erasure while we worked on it."""


def index_document(document: Document, parts: WorkerParts) -> Document:
    """Index DOCUMENT; returns it READY or FAILED (or untouched when it is not waiting to be
    indexed). Raises nothing for a bad document. ingest.batching runs the same steps over many
    documents at once."""
    if not claim(document):
        return document
    try:
        work = parse(document)
        policy = labelling_policy()
        label(work, parts.scanner.scan(work.texts), policy)
        store(work, parts.passage_embedder.embed(work.searchable), parts)
        parts.store.optimize()
        finish(work, policy)
    except Exception as error:
        record_failure(document, parts, error)
    else:
        retire_previous_version(document, parts)
    return refreshed(document)


@dataclass
class Indexing:
    """A claimed document between the steps below: parse, label (with the scan's findings), store
    (with the embedder's vectors), finish."""
    document: Document
    file_type: str
    drafts: list[ChunkDraft]
    findings: list[list[PiiFinding]] = field(default_factory=list)
    prepared: list[PreparedChunk] = field(default_factory=list)
    searchable: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """What the PII scan reads: each chunk's text."""
        return [draft.text for draft in self.drafts]


def parse(document: Document) -> Indexing:
    """Read and chunk a claimed DOCUMENT. Raises IngestRejected for a file that cannot be read."""
    parsed = parse_document(
        read_blob(document), document.filename,
        max_bytes=settings.INGEST_MAX_FILE_MB * 1_000_000,
        max_unzipped_bytes=settings.INGEST_MAX_UNZIPPED_MB * 1_000_000,
    )
    work = Indexing(document, parsed.file_type, chunk_document(parsed))
    move_on(document, Status.PARSING, Status.SCANNING, 35)
    return work


def label(work: Indexing, findings: list[list[PiiFinding]], policy: Policy) -> None:
    """Give each chunk its label from FINDINGS (one list per chunk) and the policy in force, which
    decides which personal data raises a passage's label; redact when the collection redacts."""
    work.findings = findings
    work.prepared = prepare_chunks(work.document, work.drafts, findings, policy)
    work.searchable = [searchable_text(work.document, chunk) for chunk in work.prepared]
    move_on(work.document, Status.SCANNING, Status.EMBEDDING, 60)


def store(work: Indexing, vectors, parts: WorkerParts) -> None:
    """Write the document's points (one per prepared chunk, with VECTORS in the same order). The
    caller optimizes the store once it has written what it has to write."""
    parts.store.upsert([
        to_point(work.document, chunk, vector, parts.keywords.embed_passage(text))
        for chunk, vector, text in zip(work.prepared, vectors, work.searchable)
    ])


def refreshed(document: Document) -> Document:
    """DOCUMENT as the database holds it now; as it was, when an erasure has deleted its row."""
    try:
        document.refresh_from_db()
    except Document.DoesNotExist:
        pass
    return document


def record_failure(document: Document, parts: WorkerParts, error: Exception) -> None:
    """What a step's ERROR means for DOCUMENT: erased meanwhile (its points come back out), rejected
    (FAILED with the reason), or a bug or broken dependency (FAILED with an error id, logged
    without content)."""
    if isinstance(error, DocumentGone):
        # The erasure may have cleared the store before our upsert: take our points back out;
        # but not from under a run that took the document over (same ids, its points now).
        if not Document.objects.filter(pk=document.pk).exclude(status=Status.ERASING).exists():
            parts.store.delete_document(document.collection.store_key, str(document.uid))
    elif isinstance(error, IngestRejected):
        fail(document, parts, error.code, error.message)
    else:
        error_id = uuid.uuid4().hex[:8]
        logger.error(
            "ingest error %s on document %s: %s\n%s", error_id, document.pk, type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        fail(document, parts, "internal_error",
             f"Ingestion failed inside the appliance (error {error_id}); the document was not indexed. "
             "Try again, or ask your operator to look up this error id in the worker log.")


def claim(document: Document) -> bool:
    """Take the document for this run; False when it is ready, failed, being erased, or in
    progress in another run whose lease still holds (a second delivery of the same task). A
    document in progress under a lease that ran out is one whose worker died mid-way: we redo it;
    the writes are idempotent (ingest/claims.py)."""
    token = new_claim()
    taken = Document.objects.filter(claimable(Status.QUEUED, DOCUMENT_WORKING), pk=document.pk).update(
        status=Status.PARSING, progress=10, claimed_by=token, lease_until=lease_end())
    if taken:
        document.claimed_by = token
    return bool(taken)


def move_on(document: Document, expected: str, status: str, progress: int) -> None:
    """Advance the status with a conditional UPDATE, renewing the lease: zero rows means someone
    else has the document (an erasure, or a run that took it over), so we stop."""
    if not Document.objects.filter(pk=document.pk, status=expected, claimed_by=document.claimed_by).update(
            status=status, progress=progress, lease_until=lease_end()):
        raise DocumentGone()


def chunk_id_of(document: Document, section: str, text: str) -> str:
    """A content hash: a retried task writes the same ids, so it replaces rather than duplicates."""
    return hashlib.sha256(f"{document.uid}\x00{section}\x00{text}".encode()).hexdigest()


def labelling_policy() -> Policy:
    """The policy in force. Before any version is published it is the shipped default, which
    guardrails.publishing publishes as version 1 when first asked for it; indexing does not publish
    it (a document is not a policy change), but names it by that number."""
    version = PolicyVersion.objects.order_by("-number").first()
    return version.to_policy() if version is not None else Policy.from_rules(DEFAULT_RULES, version=1)


def prepare_chunks(
    document: Document, drafts: list[ChunkDraft], findings: list[list[PiiFinding]], policy: Policy,
) -> list[PreparedChunk]:
    collection = document.collection
    prepared, seen = [], set()
    for draft, chunk_findings in zip(drafts, findings):
        entity_types = tuple(sorted({finding.entity_type for finding in chunk_findings}))
        text = redact(draft.text, chunk_findings) if collection.redact_pii else draft.text
        chunk_id = chunk_id_of(document, draft.section, text)
        if chunk_id in seen:  # the same passage twice in one section: index it once
            continue
        seen.add(chunk_id)
        sensitivity = max_sensitivity(collection.classification, sensitivity_of_entities(entity_types, policy.entity_labels))
        prepared.append(PreparedChunk(chunk_id, draft, text, sensitivity, entity_types))
    return prepared


def searchable_text(document: Document, chunk: PreparedChunk) -> str:
    """What a chunk is found by: its text under the document's name and its section path. A
    passage often leaves out what its heading says ("Hotels" over "EUR 220 a night in capitals"),
    and the heading is what an analyst asks about."""
    title = " > ".join(part for part in (PurePath(document.filename).stem, chunk.draft.section) if part)
    return f"{title}\n\n{chunk.text}"


def to_point(document: Document, chunk: PreparedChunk, vector, keywords: Keywords) -> ChunkPoint:
    return ChunkPoint(
        chunk_id=chunk.chunk_id, vector=vector, keywords=keywords, collection=document.collection.store_key,
        document_id=str(document.uid),
        payload={
            "text": chunk.text, "section": chunk.draft.section, "page": chunk.draft.page,
            "sensitivity": chunk.sensitivity, "filename": document.filename, "version": document.version,
        },
    )


def finish(work: Indexing, policy: Policy) -> None:
    """Write the chunks' rows, mark the document READY and record document.indexed, in one
    transaction. Raises DocumentGone when an erasure took the document meanwhile."""
    document, prepared = work.document, work.prepared
    counts = entity_counts(f for chunk_findings in work.findings for f in chunk_findings)
    instructions = sum(len(sentences_addressing_the_assistant(chunk.text)) for chunk in prepared)
    with transaction.atomic():
        if not Document.objects.select_for_update().filter(pk=document.pk, status=Status.EMBEDDING,
                                                            claimed_by=document.claimed_by).exists():
            raise DocumentGone()
        Chunk.objects.bulk_create(
            Chunk(
                document=document, chunk_id=chunk.chunk_id, ordinal=ordinal, text=chunk.text,
                section=chunk.draft.section[:1000], page=chunk.draft.page, start_char=chunk.draft.start_char,
                end_char=chunk.draft.end_char, sensitivity=chunk.sensitivity, entity_types=list(chunk.entity_types),
            )
            for ordinal, chunk in enumerate(prepared)
        )
        classification = document.collection.classification
        sensitivity = max_sensitivity(classification, *(chunk.sensitivity for chunk in prepared))
        reason = explain_label(sensitivity, counts, policy.entity_labels, classification, policy.version)
        Document.objects.filter(pk=document.pk).update(
            status=Status.READY, progress=100, lease_until=None, file_type=work.file_type, chunk_count=len(prepared),
            entity_counts=counts, sensitivity=sensitivity, sensitivity_reason=reason, indexed_at=timezone.now(),
            instructions_found=instructions,
        )
        record_event(
            "document.indexed", None, document, collection=document.collection.name, filename=document.filename,
            version=document.version, chunks=len(prepared), entities=counts, sensitivity=sensitivity,
            sensitivity_reason=reason, policy_version=policy.version, instructions_found=instructions,
        )


def fail(document: Document, parts: WorkerParts, code: str, message: str) -> None:
    """Record the failure and take back anything this run wrote to the store."""
    parts.store.delete_document(document.collection.store_key, str(document.uid))
    with transaction.atomic():
        updated = Document.objects.filter(pk=document.pk).exclude(status=Status.ERASING).update(
            status=Status.FAILED, progress=0, error_code=code, error_message=message
        )
        if updated:
            record_event("document.failed", None, document, collection=document.collection.name,
                         filename=document.filename, version=document.version, error_code=code)


def retire_previous_version(document: Document, parts: WorkerParts) -> None:
    """The new version is ready: the one it replaces leaves the store, the blobs and the database."""
    previous = Document.objects.filter(pk=document.replaces_id).first()
    if previous is not None:
        Document.objects.filter(pk=document.pk).update(replaces=None)
        erase_document(previous, None, parts.store)
