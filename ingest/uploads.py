"""Taking a file into a collection: cheap checks now, the heavy work later in the worker."""
import hashlib

from django.conf import settings
from django.core.files import File
from django.db import transaction

from appliance.audit.recording import record_event
from appliance.errors import IngestRejected
from ingest.blobs import save_blob
from ingest.models import Collection, Document
from ingest.parsing import detect_file_type, too_large


def find_identical(collection: Collection, sha256: str) -> Document | None:
    """A live document of COLLECTION with exactly this content (failed and erased ones don't count)."""
    return (
        collection.documents.filter(content_sha256=sha256)
        .exclude(status__in=[Document.Status.FAILED, Document.Status.ERASING])
        .first()
    )


def accept_upload(collection: Collection, filename: str, content: File, actor, *, replaces: Document | None = None,
                  queue: bool = True) -> Document:
    """Record an uploaded file as a new document (or new version of REPLACES) and, with QUEUE, hand
    it to the worker once the transaction commits.

    A file that fails the cheap checks (size, then type by content) is recorded as a failed
    document with the reason, so the admin sees it in the documents table; an oversized file is
    never read. Raises IngestRejected (code "duplicate") for content the collection already
    holds; no document is recorded then.
    """
    max_bytes = settings.INGEST_MAX_FILE_MB * 1_000_000
    is_too_large = content.size > max_bytes
    data = b"" if is_too_large else content.read()
    sha256 = "" if is_too_large else hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        identical = find_identical(collection, sha256) if sha256 else None
        if identical is not None:
            raise IngestRejected(
                f"“{filename}” is identical to “{identical.filename}” (version {identical.version}), "
                "which this collection already holds.",
                code="duplicate",
            )
        document = Document.objects.create(
            collection=collection, filename=filename[:255], content_sha256=sha256, size_bytes=content.size,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
            replaces=replaces, version=replaces.version + 1 if replaces else 1,
        )
        try:
            if is_too_large:
                raise too_large(content.size, max_bytes)
            document.file_type = detect_file_type(data, document.filename)
        except IngestRejected as rejection:
            document.status, document.error_code, document.error_message = Document.Status.FAILED, rejection.code, rejection.message
            document.save(update_fields=["status", "error_code", "error_message", "file_type"])
        else:
            save_blob(document, data)
            document.save(update_fields=["file_type"])
        record_event(
            "document.uploaded", actor, document, collection=collection.name, filename=document.filename,
            version=document.version, sha256=sha256, size_bytes=content.size, status=document.status,
            error_code=document.error_code,
        )
        if queue and document.status == Document.Status.QUEUED:
            from ingest.tasks import ingest_document

            transaction.on_commit(lambda: ingest_document.delay(document.pk))
    return document

