import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appliance.audit.models import LedgerEntry
from guardrails.publishing import current_policy
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
    assert '<p class="muted">Also: date or time × 2</p>' in table  # the e-mail's domain is not also a web address
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
    ("get", "/administration/collections/{collection}/?status=failed&q=x&page=2"),
    ("get", "/administration/collections/{collection}/documents/?status=failed&q=x&page=2"),
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


def add_documents(collection, statuses: list[str], name: str = "share/report-{n:04}.md") -> None:
    """Documents straight into the table, as the worker leaves them: all uploaded at one moment,
    the ready ones indexed a minute later. The first of STATUSES is the oldest, so the table
    lists it last."""
    from datetime import datetime, timedelta, timezone

    uploaded = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    created = Document.objects.bulk_create(
        Document(collection=collection, filename=name.format(n=n), content_sha256=f"{n:064}", size_bytes=1,
                 status=status, chunk_count=3 if status == "ready" else 0,
                 error_message=f"“report-{n:04}.md” is empty (0 bytes); there is nothing to index."
                 if status == "failed" else "")
        for n, status in enumerate(statuses)
    )
    Document.objects.filter(pk__in=[document.pk for document in created]).update(uploaded_at=uploaded)
    Document.objects.filter(pk__in=[document.pk for document in created], status="ready").update(
        indexed_at=uploaded + timedelta(minutes=1))


def rows_of(table: str) -> list[str]:
    return re.findall(r'<tr class="status-\w+" data-document="([^"]+)">', table)


def test_it_shows_the_documents_fifty_to_a_page_newest_first(admin_client, handbook):
    add_documents(handbook, ["ready"] * 120)

    page = admin_client.get(f"/administration/collections/{handbook.pk}/?page=2").content.decode()

    assert rows_of(page) == [f"share/report-{n:04}.md" for n in range(69, 19, -1)]
    assert '<p class="listing-count">Documents 51–100 of 120</p>' in page
    assert '<a href="?page=3" rel="next">Next →</a>' in page and '<a href="?page=1" rel="prev">← Previous</a>' in page
    last = admin_client.get(f"/administration/collections/{handbook.pk}/?page=99").content.decode()
    assert rows_of(last)[-1] == "share/report-0000.md" and "Documents 101–120 of 120" in last


def test_it_filters_by_status_and_counts_each_status(admin_client, handbook):
    add_documents(handbook, ["ready"] * 70 + ["failed"] * 3 + ["queued"] * 5 + ["embedding"] * 2 + ["erasing"])

    page = admin_client.get(f"/administration/collections/{handbook.pk}/?status=failed").content.decode()

    counts = re.findall(r'>(\w+) <span class="count">([\d,]+)</span></a>', page)
    assert counts == [("All", "81"), ("Waiting", "5"), ("Indexing", "2"), ("Ready", "70"), ("Failed", "3")]
    assert rows_of(page) == ["share/report-0072.md", "share/report-0071.md", "share/report-0070.md"]
    assert ('<span class="bad">Failed</span>: “report-0072.md” is empty (0 bytes); there is nothing to index.'
            in page)
    assert '<p class="listing-count">Failed documents 1–3 of 3</p>' in page
    waiting = admin_client.get(f"/administration/collections/{handbook.pk}/documents/?status=waiting").content.decode()
    assert len(rows_of(waiting)) == 5 and "Waiting documents 1–5 of 5" in waiting


def test_it_finds_documents_by_part_of_their_name_within_a_status(admin_client, handbook):
    add_documents(handbook, ["ready", "failed"] * 30, name="hr/leave-{n:02}.md")
    add_documents(handbook, ["ready", "failed"], name="finance/Budget-{n}.xlsx")

    page = admin_client.get(f"/administration/collections/{handbook.pk}/?q=budget").content.decode()
    failed = admin_client.get(f"/administration/collections/{handbook.pk}/?q=budget&status=failed").content.decode()
    none = admin_client.get(f"/administration/collections/{handbook.pk}/?q=payroll").content.decode()
    typed_nul = admin_client.get(f"/administration/collections/{handbook.pk}/?q=budg%00et")  # PostgreSQL refuses NUL

    assert rows_of(page) == ["finance/Budget-1.xlsx", "finance/Budget-0.xlsx"]
    assert "Documents 1–2 of 2 whose name contains “budget”" in page
    assert 'id="document-search" value="budget"' in page
    assert rows_of(failed) == ["finance/Budget-1.xlsx"]
    assert "No documents whose name contains “payroll”." in none
    assert rows_of(typed_nul.content.decode()) == ["finance/Budget-1.xlsx", "finance/Budget-0.xlsx"]


def test_it_polls_the_page_on_screen_with_its_filter(admin_client, handbook):
    add_documents(handbook, ["queued"] * 120)

    page = admin_client.get(f"/administration/collections/{handbook.pk}/?status=waiting&page=2&junk=1").content.decode()

    assert f'data-poll="/administration/collections/{handbook.pk}/documents/?status=waiting&amp;page=2"' in page


def test_it_keeps_the_progress_poll_the_same_size_at_300_and_3000_documents(admin_client, handbook, admin):
    def poll_at(total: int) -> tuple[str, int]:
        statuses = ["ready"] * (total * 6 // 10) + ["failed"] * (total // 10)
        add_documents(handbook, statuses + ["queued"] * (total - len(statuses)))
        with CaptureQueriesContext(connection) as queries:
            table = admin_client.get(f"/administration/collections/{handbook.pk}/documents/").content.decode()
        return table, len(queries)

    current_policy()  # publishes the default policy, as the first page of a new appliance does
    small, small_queries = poll_at(300)
    Document.objects.all().delete()
    large, large_queries = poll_at(3000)

    assert len(rows_of(small)) == len(rows_of(large)) == 50
    assert "1,800 of 3,000 documents ready · 300 failed · 90 chunks/s · less than a minute left" in large
    assert len(large.encode()) < 1.05 * len(small.encode()) and len(large.encode()) < 60_000
    assert large_queries == small_queries


def test_it_names_the_first_ten_documents_above_the_collection_and_counts_the_rest(admin_client, handbook):
    add_documents(handbook, ["ready"] * 14, name="records/{n:02}.md")
    Document.objects.update(sensitivity="restricted")

    page = admin_client.get(f"/administration/collections/{handbook.pk}/").content.decode()

    names = ", ".join(f"records/{n:02}.md" for n in range(13, 3, -1))
    assert (f"14 documents are labelled above this collection’s classification (internal): {names} and 4 more. "
            "Everyone this collection is granted to can ask about them") in page
