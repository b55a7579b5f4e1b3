import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from appliance.audit.models import LedgerEntry
from ingest.collections import create_collection
from ingest.models import Collection, Document
from ingest.tasks import erase_document, ingest_document
from tests import documents

pytestmark = [pytest.mark.django_db, pytest.mark.services]

NOTE = b"# Onboarding\n\nNew starters receive their laptop on the first day from the service desk.\n"


@pytest.fixture
def handbook(admin):
    return create_collection("Handbook", "internal", [Group.objects.get_or_create(name="analysts")[0]], False, admin)


@pytest.fixture
def admin_client(client, admin, analyst):  # analyst: creates the `analysts` team
    client.force_login(admin)
    return client


def test_it_creates_a_collection_with_its_grants(admin_client):
    team = Group.objects.get(name="analysts")

    response = admin_client.post("/administration/collections/", {
        "name": "Finance 2026", "classification": "confidential", "groups": [team.pk], "redact_pii": "on",
    })

    collection = Collection.objects.get(name="Finance 2026")
    assert response["Location"] == f"/administration/collections/{collection.pk}/"
    assert (collection.classification, collection.redact_pii) == ("confidential", True)
    assert list(collection.groups.all()) == [team]
    assert LedgerEntry.objects.get(action="collection.created").details["groups"] == ["analysts"]


def test_it_offers_only_teams_not_roles_as_grants(admin_client):
    page = admin_client.get("/administration/collections/").content.decode()

    offered = re.findall(r'<input type="checkbox" name="groups" value="\d+"[^>]*>\s*([^<]+?)\s*</label>', page)
    assert offered == ["analysts"]


def test_it_refuses_a_duplicate_collection_name(admin_client, handbook):
    response = admin_client.post("/administration/collections/", {"name": "Handbook", "classification": "public"})

    assert response.status_code == 200
    assert "A collection named “Handbook” already exists." in response.content.decode()


def test_it_records_a_change_of_grants(admin_client, handbook):
    admin_client.post(f"/administration/collections/{handbook.pk}/", {"classification": "restricted", "groups": []})

    handbook.refresh_from_db()
    assert handbook.classification == "restricted"
    assert not handbook.groups.exists()
    assert LedgerEntry.objects.get(action="collection.grants_changed").details == {"granted": [], "revoked": ["analysts"]}
    assert LedgerEntry.objects.get(action="collection.settings_changed").details["classification"] == ["internal", "restricted"]


def test_it_queues_uploads_after_commit_and_shows_bad_files_with_their_reason(
    admin_client, handbook, django_capture_on_commit_callbacks
):
    files = [
        SimpleUploadedFile("onboarding.md", NOTE),
        SimpleUploadedFile("empty.txt", b""),
        SimpleUploadedFile("photo.png", documents.png()),
    ]
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(f"/administration/collections/{handbook.pk}/upload/", {"files": files}, follow=True)

    assert len(queued) == 1  # only the good file goes to the worker
    statuses = {document.filename: document.status for document in handbook.documents.all()}
    assert statuses == {"onboarding.md": "queued", "empty.txt": "failed", "photo.png": "failed"}
    page = response.content.decode()
    assert "1 file queued for indexing." in page
    assert "“empty.txt” is empty (0 bytes); there is nothing to index." in page
    assert "“photo.png” is an image (image/png), which cannot be indexed." in page


def test_it_shows_live_progress_until_documents_are_ready(admin_client, handbook, parts):
    admin_client.post(f"/administration/collections/{handbook.pk}/upload/", {"files": [SimpleUploadedFile("onboarding.md", NOTE)]})
    polling = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()
    assert "data-poll=" in polling and "Queued…" in polling

    ingest_document(handbook.documents.get().pk)  # what the worker runs

    done = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()
    assert "data-poll=" not in done
    assert '<span class="ok">Ready</span>' in done


def test_it_names_the_personal_data_found_in_plain_words_and_dates_apart(admin_client, handbook, parts):
    record = (b"# Contacts\n\nAsk Maria Jansen on 12 March 2026 or 3 April 2026; her e-mail is "
              b"maria.jansen@example.com.\n")
    admin_client.post(f"/administration/collections/{handbook.pk}/upload/", {"files": [SimpleUploadedFile("c.md", record)]})
    ingest_document(handbook.documents.get().pk)

    table = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()

    assert "<th>Personal data found</th>" in table
    assert '<span class="tag">person&#x27;s name × 1</span>' in table
    assert '<span class="tag">e-mail address × 1</span>' in table
    assert '<p class="muted">Also: date or time × 2, web address × 1</p>' in table  # the e-mail's domain
    assert "DATE_TIME" not in table and "EMAIL_ADDRESS" not in table


def test_it_replaces_and_erases_documents_through_the_worker(admin_client, handbook, parts, django_capture_on_commit_callbacks):
    admin_client.post(f"/administration/collections/{handbook.pk}/upload/", {"files": [SimpleUploadedFile("onboarding.md", NOTE)]})
    first = handbook.documents.get()
    ingest_document(first.pk)

    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(f"/administration/documents/{first.pk}/replace/",
                          {"file": SimpleUploadedFile("onboarding.md", NOTE + b"\nBadges are collected at reception.\n")})
    assert len(queued) == 1
    assert handbook.documents.get(version=1).status == "ready"  # searchable until its successor is ready
    ingest_document(handbook.documents.get(version=2).pk)
    current = handbook.documents.get()
    assert current.version == 2 and current.status == "ready"

    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(f"/administration/documents/{current.pk}/delete/")
    assert handbook.documents.get().status == "erasing"
    erase_document(current.pk, None)
    assert not Document.objects.exists()
    assert parts.store.count([handbook.store_key]) == 0


ADMIN_ONLY = [
    ("get", "/administration/collections/"),
    ("get", "/administration/collections/{collection}/"),
    ("get", "/administration/collections/{collection}/documents/"),
    ("post", "/administration/collections/{collection}/upload/"),
    ("post", "/administration/collections/{collection}/delete/"),
    ("post", "/administration/documents/{document}/replace/"),
    ("post", "/administration/documents/{document}/delete/"),
]


@pytest.mark.parametrize("person", ["analyst", "officer", "outsider"])
@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_it_lets_only_admins_manage_collections(client, request, handbook, person, method, path):
    document = Document.objects.create(collection=handbook, filename="x.md", content_sha256="0" * 64, size_bytes=1,
                                       status="ready")
    client.force_login(request.getfixturevalue(person))

    response = getattr(client, method)(path.format(collection=handbook.pk, document=document.pk))

    assert response.status_code == 403
    assert Collection.objects.filter(pk=handbook.pk).exists() and Document.objects.filter(pk=document.pk, status="ready").exists()


def make_batch(collection, *, ready: int, failed: int, waiting: int, seconds: int, chunks: int) -> None:
    """A batch uploaded at one moment: READY documents indexed over SECONDS with CHUNKS chunks in
    all, FAILED and WAITING ones; and an older ready document that is not part of it."""
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    old = Document.objects.create(collection=collection, filename="old.md", content_sha256="f" * 64, size_bytes=1,
                                  status="ready", chunk_count=500)
    Document.objects.filter(pk=old.pk).update(uploaded_at=start - timedelta(days=3),
                                              indexed_at=start - timedelta(days=3, seconds=-50))
    statuses = ["ready"] * ready + ["failed"] * failed + ["queued", "embedding"] * (waiting // 2) + ["queued"] * (waiting % 2)
    for n, status in enumerate(statuses):
        document = Document.objects.create(collection=collection, filename=f"{n}.md", content_sha256=f"{n:064}",
                                           size_bytes=1, status=status)
        done = start + timedelta(seconds=seconds * (n + 1) // ready) if status == "ready" else None
        Document.objects.filter(pk=document.pk).update(
            uploaded_at=start + timedelta(milliseconds=n), indexed_at=done,
            chunk_count=chunks // ready if status == "ready" else 0)


def test_it_sums_up_the_progress_of_the_batch_being_indexed(admin_client, handbook):
    make_batch(handbook, ready=12, failed=0, waiting=28, seconds=60, chunks=1860)

    table = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()

    assert ('<p class="notice progress-summary" role="status">'
            "12 of 40 documents ready · 31 chunks/s · about 2 min left</p>") in table


def test_it_counts_failed_documents_and_says_when_it_cannot_estimate_yet(admin_client, handbook):
    make_batch(handbook, ready=0, failed=2, waiting=5, seconds=0, chunks=0)

    table = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()

    assert "0 of 7 documents ready · 2 failed · estimating…</p>" in table


def test_it_shows_no_progress_summary_when_nothing_is_being_indexed(admin_client, handbook):
    make_batch(handbook, ready=3, failed=1, waiting=0, seconds=20, chunks=12)

    table = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()

    assert "progress-summary" not in table and "data-poll=" not in table
