"""The progress line of a collection's batch (ingest/progress.py), from documents as the upload
view, the worker and the folder command leave them: fixed timestamps, no clock."""
from datetime import datetime, timedelta, timezone

import pytest

from ingest.collections import create_collection
from ingest.models import Document
from ingest.progress import describe_progress

pytestmark = [pytest.mark.django_db, pytest.mark.services]

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def share(admin):
    return create_collection("File share", "internal", [], False, admin)


def add(collection, name: str, status: str, *, uploaded: float, indexed: float | None = None, chunks: int = 0):
    """A document uploaded UPLOADED seconds after START, ready INDEXED seconds after START."""
    document = Document.objects.create(collection=collection, filename=name, content_sha256=name.ljust(64, "0"),
                                       size_bytes=1, status=status, chunk_count=chunks)
    Document.objects.filter(pk=document.pk).update(
        uploaded_at=START + timedelta(seconds=uploaded),
        indexed_at=START + timedelta(seconds=indexed) if indexed is not None else None)


def test_it_counts_the_first_files_of_an_upload_the_worker_finished_before_the_last_arrived(share):
    # Each stored file is queued at once: the worker had indexed the first two before the third
    # and fourth of the same upload were stored (a slow upload, a folder, an archive unpacking).
    add(share, "a.md", "ready", uploaded=0, indexed=2, chunks=60)
    add(share, "b.md", "ready", uploaded=1, indexed=4, chunks=60)
    add(share, "c.md", "queued", uploaded=5)
    add(share, "d.md", "queued", uploaded=6)

    assert describe_progress(share.documents.all()) == "2 of 4 documents ready · 30 chunks/s · less than a minute left"


def test_it_follows_the_batch_back_through_every_document_finished_while_it_ran(share):
    for n in range(30):  # 30 files, each uploaded 2 s after the last, each ready 1 s after its upload
        add(share, f"{n}.md", "ready", uploaded=2 * n, indexed=2 * n + 1, chunks=10)
    add(share, "failed-early.md", "failed", uploaded=3)
    add(share, "last.md", "embedding", uploaded=60)

    assert describe_progress(share.documents.all()).startswith("30 of 32 documents ready · 1 failed · ")


def test_it_leaves_out_an_earlier_batch_the_worker_had_finished_before_this_one(share):
    add(share, "last-week.md", "ready", uploaded=-7 * 86400, indexed=-7 * 86400 + 30, chunks=500)
    add(share, "yesterday.md", "ready", uploaded=-86400, indexed=-86400 + 5, chunks=500)
    add(share, "now.md", "ready", uploaded=0, indexed=10, chunks=100)
    add(share, "next.md", "queued", uploaded=1)

    assert describe_progress(share.documents.all()) == "1 of 2 documents ready · 10 chunks/s · less than a minute left"


def test_it_groups_thousands_of_documents_in_the_count(share):
    Document.objects.bulk_create(
        Document(collection=share, filename=f"{n}.md", content_sha256=f"{n:064}", size_bytes=1, status="queued")
        for n in range(1200)
    )
    Document.objects.update(uploaded_at=START)

    assert describe_progress(share.documents.all()) == "0 of 1,200 documents ready · estimating…"
