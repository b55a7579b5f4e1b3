"""Administrators' pages for collections and their documents."""
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import QueryDict
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
from ingest.progress import describe_progress
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
               "max_file_mb": settings.INGEST_MAX_FILE_MB, **documents_context(collection, request.GET)}
    return render(request, "web/collection_detail.html", context)


RECENT_ARCHIVES = 5
DOCUMENTS_PER_PAGE = 50
ABOVE_NAMED = 10  # documents above their collection named in the warning; the rest are counted
# The filters of the documents table, as named in the page's address, and the statuses each shows.
STATUS_FILTERS = {
    "waiting": (Document.Status.QUEUED,),
    "indexing": (Document.Status.PARSING, Document.Status.SCANNING, Document.Status.EMBEDDING),
    "ready": (Document.Status.READY,),
    "failed": (Document.Status.FAILED,),
}


def documents_context(collection, params) -> dict:
    """What the documents part of the page shows: the progress line, the recent archives, the
    documents above the collection, the count of each status, and one page of the documents that
    pass the status filter and the name search in PARAMS (a request's GET)."""
    status = params.get("status", "") if params.get("status") in STATUS_FILTERS else ""
    search = params.get("q", "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in a query
    page = page_of_documents(collection, status, search, params.get("page"))
    archives = list(collection.archives.all()[:RECENT_ARCHIVES])
    for archive in archives:
        archive.lines = describe_archive(archive)
    in_progress = (collection.documents.filter(status__in=Document.IN_PROGRESS).exists()
                   or any(archive.is_in_progress for archive in archives))
    above = documents_above(collection)
    above_named = [document.filename for document in above[:ABOVE_NAMED]]
    above_count = above.count() if len(above_named) == ABOVE_NAMED else len(above_named)
    return {"page": page, "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "status": status, "search": search, "counts": count_by_status(collection),
            "listing": listing_query(status, search, page.number), "in_progress": in_progress,
            "archives": archives, "progress": describe_progress(collection.documents.all()),
            "above_count": above_count, "above_named": above_named, "above_unnamed": above_count - len(above_named)}


def page_of_documents(collection, status: str, search: str, page_number) -> Page:
    """The page PAGE_NUMBER (the last one when past the end, the first when not a number) of the
    collection's documents under STATUS whose name contains SEARCH, each with what its row shows."""
    documents = collection.documents.select_related("uploaded_by")
    if status:
        documents = documents.filter(status__in=STATUS_FILTERS[status])
    if search:
        documents = documents.filter(filename__icontains=search)
    page = Paginator(documents, DOCUMENTS_PER_PAGE).get_page(page_number)
    page.object_list = list(page.object_list)  # the rows the template shows are the ones described here
    policy = current_policy()
    for document in page:
        document.personal_data, document.other_entities = entities_in_words(document.entity_counts, policy)
        document.is_above = is_above_collection(document, collection)
    return page


def count_by_status(collection) -> dict[str, int]:
    """How many documents the collection holds in all ("all") and under each status filter."""
    counts = {name: Count("pk", filter=Q(status__in=statuses)) for name, statuses in STATUS_FILTERS.items()}
    return collection.documents.aggregate(all=Count("pk"), **counts)


def listing_query(status: str, search: str, page: int) -> QueryDict:
    """The page's address parameters, cleaned: what the page links and the progress poll keep."""
    query = QueryDict(mutable=True)
    query.update({key: value for key, value in [("status", status), ("q", search)] if value})
    if page > 1:
        query["page"] = page
    return query


def documents_above(collection: Collection):
    """The collection's ready documents labelled above its classification, newest first."""
    if collection.classification not in LEVELS:
        return collection.documents.none()
    higher = LEVELS[LEVELS.index(collection.classification) + 1:]
    return collection.documents.filter(status=Document.Status.READY, sensitivity__in=higher)


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
    """The documents part of the page alone (the progress line, the counts and the page of rows on
    screen), polled by the page while documents are in progress."""
    collection = get_object_or_404(Collection, pk=collection_id)
    context = {"collection": collection, **documents_context(collection, request.GET)}
    return render(request, "web/_documents.html", context)


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
