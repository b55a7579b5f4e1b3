"""Administrators' pages for collections and their documents."""
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.accounts.decorators import permission_required
from appliance.errors import IngestRejected
from appliance.plain_words import entity_words
from appliance.web.forms import CollectionForm, ReplaceForm, UploadForm
from guardrails.publishing import current_policy
from guardrails.sensitivity import LEVELS
from ingest.archives import accept_archive, describe_archive, is_archive_name
from ingest.collections import create_collection, update_collection
from ingest.erasure import request_collection_erasure, request_document_erasure
from ingest.models import Collection, Document
from ingest.parsing import ACCEPTED_TYPES
from ingest.uploads import accept_upload

manage_collections = permission_required("manage_collections")


@manage_collections
def collection_list(request):
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        collection = create_collection(data["name"], data["classification"], data["groups"], data["redact_pii"], request.user)
        messages.success(request, f"Collection “{collection.name}” created. Upload its documents below.")
        return redirect("collection-detail", collection.pk)
    collections = Collection.objects.prefetch_related("groups").all()
    return render(request, "web/collection_list.html", {"collections": collections, "form": form})


@manage_collections
def collection_detail(request, collection_id):
    collection = get_object_or_404(Collection, pk=collection_id)
    form = CollectionForm(request.POST or None, instance=collection)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        update_collection(collection, classification=data["classification"], groups=data["groups"],
                          redact_pii=data["redact_pii"], actor=request.user)
        messages.success(request, "Settings saved. A change of redaction applies to documents indexed from now on.")
        return redirect("collection-detail", collection.pk)
    context = {"collection": collection, "form": form, "accepted_types": ACCEPTED_TYPES,
               "max_file_mb": settings.INGEST_MAX_FILE_MB, **documents_context(collection)}
    return render(request, "web/collection_detail.html", context)


RECENT_ARCHIVES = 5


def documents_context(collection):
    documents = list(collection.documents.select_related("uploaded_by"))
    above = [document for document in documents if is_above_collection(document, collection)]
    policy = current_policy()
    for document in documents:
        document.personal_data, document.other_entities = entities_in_words(document.entity_counts, policy)
    archives = list(collection.archives.all()[:RECENT_ARCHIVES])
    for archive in archives:
        archive.lines = describe_archive(archive)
    in_progress = any(item.is_in_progress for item in [*documents, *archives])
    return {"documents": documents, "in_progress": in_progress, "archives": archives,
            "progress": describe_progress(documents), "above": above, "above_ids": {document.pk for document in above}}


BATCH_SLACK = timedelta(minutes=1)
INDEXING = (Document.Status.QUEUED, Document.Status.PARSING, Document.Status.SCANNING, Document.Status.EMBEDDING)


def describe_progress(documents: list[Document]) -> str | None:
    """How far the worker is with the documents being indexed, in one line ("12 of 40 documents
    ready · 31 chunks/s · about 2 min left"), or None when none is.

    The batch is what is waiting, plus what became ready since the oldest of those was uploaded
    (an upload of 40 files is one batch however far it got). The rate is over the batch so far,
    from its first upload to its last document ready; until one is ready, it is unknown. A failed
    document has no timestamp of its end, only of its upload: it counts in the batch when it was
    uploaded with it (a file refused at upload fails before the good files after it are
    recorded, hence the slack), and not in the rate.
    """
    waiting = [document for document in documents if document.status in INDEXING]
    if not waiting:
        return None
    oldest_waiting = min(document.uploaded_at for document in waiting)
    ready = [document for document in documents if document.status == Document.Status.READY
             and document.indexed_at is not None and document.indexed_at >= oldest_waiting]
    start = min(document.uploaded_at for document in [*waiting, *ready])
    failed = sum(document.status == Document.Status.FAILED and document.uploaded_at >= start - BATCH_SLACK
                 for document in documents)
    words = [f"{len(ready)} of {len(waiting) + len(ready) + failed} documents ready"]
    if failed:
        words.append(f"{failed} failed")
    elapsed = (max(document.indexed_at for document in ready) - start).total_seconds() if ready else 0
    if elapsed <= 0:
        return " · ".join([*words, "estimating…"])
    rate = sum(document.chunk_count for document in ready) / elapsed
    words.append(f"{rate:.0f} chunks/s" if rate >= 10 else f"{rate:.1f} chunks/s")
    return " · ".join([*words, time_left_in_words(len(waiting) * elapsed / len(ready))])


def time_left_in_words(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute left"
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"


def entities_in_words(counts: dict[str, int], policy) -> tuple[list[str], str]:
    """What the scan found, as the admin reads it: the kinds that raise a document's label first,
    each in plain words with its count ("person's name × 2"); then, in one muted line, those the
    policy labels public (dates, places, web addresses), which are many in any handbook."""
    # Most found first, then by name: the stored order is the database's (PostgreSQL's jsonb sorts keys).
    found = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    personal = [f"{entity_words(kind)} × {count}" for kind, count in found if policy.label_for_entity(kind) != "public"]
    other = ", ".join(f"{entity_words(kind)} × {count}" for kind, count in found if policy.label_for_entity(kind) == "public")
    return personal, other


def is_above_collection(document: Document, collection: Collection) -> bool:
    """Whether indexing labelled DOCUMENT above its COLLECTION's classification (a restricted record
    in an internal collection): everyone the collection is granted to can ask about it, so the
    admin should know."""
    if document.status != Document.Status.READY or document.sensitivity not in LEVELS:
        return False
    return LEVELS.index(document.sensitivity) > LEVELS.index(collection.classification)


@manage_collections
@require_GET
def collection_documents(request, collection_id):
    """The documents table alone, polled by the page while documents are in progress."""
    collection = get_object_or_404(Collection, pk=collection_id)
    return render(request, "web/_documents.html", {"collection": collection, **documents_context(collection)})


@manage_collections
@require_POST
def upload_documents(request, collection_id):
    collection = get_object_or_404(Collection, pk=collection_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose at least one file to upload.")
        return redirect("collection-detail", collection.pk)
    queued = 0
    for upload in form.cleaned_data["files"]:
        try:
            if is_archive_name(upload.name):
                accept_archive(collection, upload.name, upload, request.user)
                messages.success(request, f"{upload.name} stored: the worker unpacks it, and its documents appear below.")
                continue
            document = accept_upload(collection, upload.name, upload, request.user)
        except IngestRejected as rejection:
            messages.warning(request, rejection.message)
            continue
        if document.status == Document.Status.FAILED:
            messages.error(request, document.error_message)
        else:
            queued += 1
    if queued:
        messages.success(request, f"{queued} file{'s' if queued != 1 else ''} queued for indexing.")
    return redirect("collection-detail", collection.pk)


@manage_collections
@require_POST
def replace_document(request, document_id):
    document = get_object_or_404(Document, pk=document_id, status=Document.Status.READY)
    form = ReplaceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose the file that replaces this document.")
        return redirect("collection-detail", document.collection_id)
    try:
        new = accept_upload(document.collection, form.cleaned_data["file"].name, form.cleaned_data["file"],
                            request.user, replaces=document)
    except IngestRejected as rejection:
        messages.warning(request, rejection.message)
    else:
        if new.status == Document.Status.FAILED:
            messages.error(request, f"{new.error_message} Version {document.version} stays in place.")
        else:
            messages.success(request, f"Version {new.version} of {document.filename} queued; "
                                      f"version {document.version} stays searchable until it is ready.")
    return redirect("collection-detail", document.collection_id)


@manage_collections
@require_POST
def delete_document(request, document_id):
    document = get_object_or_404(Document.objects.exclude(status=Document.Status.ERASING), pk=document_id)
    request_document_erasure(document, request.user)
    messages.success(request, f"{document.filename} is being erased from the index, the file store and the database.")
    return redirect("collection-detail", document.collection_id)


@manage_collections
@require_POST
def delete_collection(request, collection_id):
    collection = get_object_or_404(Collection, pk=collection_id)
    request_collection_erasure(collection, request.user)
    messages.success(request, f"Collection “{collection.name}” and its documents are being erased.")
    return redirect("collection-list")
