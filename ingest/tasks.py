"""Celery adapters: take ids, load rows, call one domain function. The worker owns the store."""
from celery import shared_task
from django.contrib.auth.models import User

from appliance.errors import StoreUnavailable
from appliance.runtime import worker_parts
from ingest import archives, claims, erasure
from ingest.indexing import index_document
from ingest.models import Archive, Collection, Document


@shared_task
def ingest_document(document_id: int) -> None:
    document = Document.objects.filter(pk=document_id).select_related("collection").first()
    if document is not None:  # erased before the worker got to it: nothing to do
        index_document(document, worker_parts())


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
