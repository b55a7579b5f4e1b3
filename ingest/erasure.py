"""Erasure: a document or collection leaves the vector store, the blob store and the database,
and the erasure itself is recorded. Runs in the worker (it owns the embedded store)."""
from django.db import transaction

from appliance.answering.conversations import forget_erased_document
from appliance.audit.recording import record_event
from appliance.retrieval.store import VectorStore
from ingest.blobs import erase_blob
from ingest.models import Collection, Document


def request_document_erasure(document: Document, actor) -> None:
    """Mark DOCUMENT for erasure and queue the work; it disappears from search at once."""
    from ingest.tasks import erase_document

    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(status=Document.Status.ERASING)
        record_event("document.erasure_requested", actor, document, collection=document.collection.name,
                     filename=document.filename, version=document.version)
        transaction.on_commit(lambda: erase_document.delay(document.pk, actor.pk if actor else None))


def request_collection_erasure(collection: Collection, actor) -> None:
    from ingest.tasks import erase_collection

    with transaction.atomic():
        collection.documents.update(status=Document.Status.ERASING)
        record_event("collection.erasure_requested", actor, collection, name=collection.name)
        transaction.on_commit(lambda: erase_collection.delay(collection.pk, actor.pk if actor else None))


def erase_document(document: Document, actor, store: VectorStore) -> None:
    """Store first, then blob, then the row: if the store fails, the row stays to retry from."""
    store.delete_document(document.collection.store_key, str(document.uid))
    erase_blob(document)
    with transaction.atomic():
        exchanges = forget_erased_document(document.filename, set(document.chunks.values_list("chunk_id", flat=True)))
        record_event(
            "document.erased", actor, document, collection=document.collection.name, filename=document.filename,
            version=document.version, sha256=document.content_sha256, chunks=document.chunk_count,
            exchanges=exchanges,
        )
        document.delete()


def erase_collection(collection: Collection, actor, store: VectorStore) -> None:
    store.delete_collection(collection.store_key)
    documents = list(collection.documents.all())
    for document in documents:
        erase_blob(document)
    for archive in collection.archives.all():  # a zip still waiting to be unpacked
        erase_blob(archive)
    with transaction.atomic():
        for document in documents:
            forget_erased_document(document.filename, set(document.chunks.values_list("chunk_id", flat=True)))
        record_event("collection.erased", actor, collection, name=collection.name, documents=len(documents))
        Document.objects.filter(collection=collection).update(replaces=None)
        Document.objects.filter(collection=collection).delete()
        collection.delete()
