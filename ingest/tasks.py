"""Celery adapters: take ids, load rows, call one domain function. The worker owns the store."""
from celery import shared_task
from django.contrib.auth.models import User

from appliance.errors import StoreUnavailable
from appliance.runtime import worker_parts
from ingest import archives, claims, erasure
from ingest.batching import index_documents, scanner_for
from ingest.models import Archive, Collection, Document


# A worker that takes one document's task takes the documents queued behind it too, up to this
# many, and indexes them as one run of ingest.batching (the PII scan in a process of its own, one
# embedding call and one store optimize per batch): their own tasks then find them done. A killed
# worker leaves at most this many claimed documents for the restart to take back (ingest/claims.py).
WORKER_BATCH_DOCUMENTS = 64


@shared_task
def ingest_document(document_id: int) -> None:
    document = Document.objects.filter(pk=document_id).select_related("collection").first()
    if document is None:  # erased before the worker got to it: nothing to do
        return
    parts = worker_parts()
    queued_behind = list(
        Document.objects.filter(status=Document.Status.QUEUED).exclude(pk=document.pk).select_related("collection")
        .order_by("pk")[:WORKER_BATCH_DOCUMENTS - 1]
    )
    # A batch of one runs index_document's steps in this process (scanner_for: no scanner process).
    batch = [document, *queued_behind]
    for _ in index_documents(((item.pk, item) for item in batch), parts, scanner_for(len(batch), parts)):
        pass  # each document's outcome is on its row and in the ledger


@shared_task
def unpack_archive(archive_id: int) -> None:
    archive = Archive.objects.filter(pk=archive_id).select_related("collection", "uploaded_by").first()
    if archive is not None:  # its collection was erased before the worker got to it
        archives.unpack_archive(archive, worker_parts().store)


@shared_task
def resume_stalled() -> None:
    """Sent by celery beat: queue again the work of runs whose lease ran out (ingest/claims.py)."""
    claims.report(claims.resume_stalled())


@shared_task(autoretry_for=(StoreUnavailable,), retry_backoff=True, max_retries=10)
def erase_document(document_id: int, actor_id: int | None) -> None:
    document = Document.objects.filter(pk=document_id).select_related("collection").first()
    if document is not None:
        erasure.erase_document(document, User.objects.filter(pk=actor_id).first(), worker_parts().store)


@shared_task(autoretry_for=(StoreUnavailable,), retry_backoff=True, max_retries=10)
def erase_collection(collection_id: int, actor_id: int | None) -> None:
    collection = Collection.objects.filter(pk=collection_id).first()
    if collection is not None:
        erasure.erase_collection(collection, User.objects.filter(pk=actor_id).first(), worker_parts().store)
