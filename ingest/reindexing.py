"""Indexing a ready document again: after the parser, the chunker or the vectors changed, so that
existing collections get what new uploads get (section paths, keyword vectors).

The document is read again from its stored file and goes through the same steps as an upload
(indexing.index_document); its old chunks leave the database and the store first. A document that
now fails (a parser grew stricter) ends FAILED with the reason, like any upload, and the admin sees it.
"""
from django.db import transaction

from appliance.audit.recording import record_event
from appliance.runtime import WorkerParts
from ingest.indexing import index_document
from ingest.models import Chunk, Document

Status = Document.Status


def documents_to_reindex(collections=None):
    """The ready documents, of COLLECTIONS (names) when given, oldest first."""
    documents = Document.objects.filter(status=Status.READY).select_related("collection").order_by("pk")
    if collections is not None:
        documents = documents.filter(collection__name__in=collections)
    return documents


def reindex_document(document: Document, parts: WorkerParts) -> Document:
    """DOCUMENT indexed again from its stored file; returns it READY or FAILED, or untouched when it
    was not ready (an upload or an erasure has it)."""
    with transaction.atomic():
        if not Document.objects.filter(pk=document.pk, status=Status.READY).update(status=Status.QUEUED, progress=0):
            return document
        Chunk.objects.filter(document=document).delete()
        record_event("document.reindexed", None, document, collection=document.collection.name,
                     filename=document.filename, version=document.version, chunks_before=document.chunk_count)
    parts.store.delete_document(document.collection.store_key, str(document.uid))
    return index_document(document, parts)
