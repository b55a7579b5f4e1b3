"""Indexing runs the real parsers, Presidio, MiniLM and Qdrant Edge (the worker's own parts)."""
import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from appliance.audit.models import LedgerEntry
from appliance.errors import IngestRejected
from ingest.archives import accept_archive
from ingest.blobs import blob_path
from ingest.collections import create_collection
from ingest.erasure import erase_collection, erase_document
from ingest.indexing import index_document
from ingest.models import Chunk, Document
from appliance.retrieval.searching import search_chunks
from tests.conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.services]

POLICY = b"""# Travel policy

## Booking

Employees book flights through the travel desk at least 14 days before departure.
Economy class is the default for flights under six hours.

## Expenses

Receipts are submitted within 30 days. Questions go to Maria Keller at maria.keller@example.com
or +49 30 901820.
"""


@pytest.fixture
def handbook(admin):
    return create_collection("Handbook", "internal", [], False, admin)


def stored(parts, collection, document):
    return [hit for hit in parts.store.search([1.0] + [0.0] * 383, collections=[collection.store_key], limit=100)
            if hit.document_id == str(document.uid)]


def test_it_indexes_a_document_with_sections_labels_and_an_entity_inventory(parts, handbook, admin):
    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    assert document.status == "ready", document.error_message
    assert document.file_type == "markdown"
    assert document.chunk_count == Chunk.objects.filter(document=document).count() >= 2
    assert document.entity_counts["EMAIL_ADDRESS"] == 1
    assert document.entity_counts["PERSON"] >= 1
    chunks = {chunk.section: chunk for chunk in document.chunks.all()}
    assert chunks["Travel policy > Booking"].sensitivity == "internal"  # the collection's level, no PII
    assert chunks["Travel policy > Expenses"].sensitivity == "confidential"  # a person's name and contacts
    assert document.sensitivity == "confidential"
    assert len(stored(parts, handbook, document)) == document.chunk_count
    assert [event.action for event in LedgerEntry.objects.all()] == ["collection.created", "document.uploaded", "document.indexed"]


def test_it_finds_a_passage_by_meaning_with_its_section(parts, handbook, admin):
    index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    best = search_chunks("How early must flights be booked?", [handbook], parts, limit=1)[0]

    assert best["section"] == "Travel policy > Booking"
    assert best["document"] == "travel.md"
    assert "14 days before departure" in best["text"]


def test_it_redacts_personal_data_before_anything_is_indexed(parts, admin):
    redacting = create_collection("HR", "confidential", [], True, admin)

    document = index_document(upload(redacting, "travel.md", POLICY, admin), parts)

    texts = [chunk.text for chunk in document.chunks.all()] + [hit.payload["text"] for hit in stored(parts, redacting, document)]
    assert all("maria.keller@example.com" not in text and "Maria Keller" not in text for text in texts)
    assert any("<EMAIL_ADDRESS>" in text for text in texts)
    assert document.entity_counts["EMAIL_ADDRESS"] == 1  # the inventory still counts what was found


def test_it_fails_a_broken_file_with_its_reason_and_writes_nothing(parts, handbook, admin):
    broken = upload(handbook, "report.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", admin)

    document = index_document(broken, parts) if broken.status == "queued" else broken

    assert document.status == "failed"
    assert document.error_message
    assert stored(parts, handbook, document) == []
    assert not document.chunks.exists()


def test_it_goes_on_with_the_rest_of_a_batch_after_a_bad_file(parts, handbook, admin):
    bad = upload(handbook, "notes.txt", b"\x7fELF\x02\x01\x01" + bytes(200), admin)
    good = index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    assert bad.status == "failed"
    assert good.status == "ready"


def test_it_writes_the_same_points_when_a_task_runs_again(parts, handbook, admin):
    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)
    before = sorted(hit.chunk_id for hit in stored(parts, handbook, document))
    # A worker died after storing the points but before recording success: the task runs again.
    Chunk.objects.filter(document=document).delete()
    Document.objects.filter(pk=document.pk).update(status="embedding")

    again = index_document(document, parts)

    assert again.status == "ready"
    assert sorted(hit.chunk_id for hit in stored(parts, handbook, again)) == before


def test_it_leaves_a_ready_document_alone_when_its_task_is_delivered_twice(parts, handbook, admin):
    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    index_document(document, parts)

    assert len(stored(parts, handbook, document)) == document.chunk_count


def test_it_recognises_an_identical_file(handbook, admin, parts):
    index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    with pytest.raises(IngestRejected) as rejection:
        upload(handbook, "travel-copy.md", POLICY, admin)

    assert rejection.value.code == "duplicate"
    assert rejection.value.message == "“travel-copy.md” is identical to “travel.md” (version 1), which this collection already holds."
    assert handbook.documents.count() == 1


def test_it_replaces_a_document_with_its_new_version(parts, handbook, admin):
    first = index_document(upload(handbook, "travel.md", POLICY, admin), parts)
    new_text = POLICY.replace(b"14 days", b"21 days")

    second = index_document(upload(handbook, "travel.md", new_text, admin, replaces=first), parts)

    assert (second.status, second.version) == ("ready", 2)
    assert not Document.objects.filter(pk=first.pk).exists()
    assert stored(parts, handbook, first) == []
    assert not blob_path(first).exists()
    best = search_chunks("How early must flights be booked?", [handbook], parts, limit=1)[0]
    assert "21 days" in best["text"] and best["version"] == 2


def test_it_erases_a_document_from_store_blobs_and_database(parts, handbook, admin):
    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)

    erase_document(document, admin, parts.store)

    assert stored(parts, handbook, document) == []
    assert parts.store.count([handbook.store_key]) == 0
    assert not blob_path(document).exists()
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    erased = LedgerEntry.objects.get(action="document.erased")
    assert (erased.actor_id, erased.actor_name) == (admin.pk, admin.username)
    assert erased.details["filename"] == "travel.md" and erased.details["chunks"] == document.chunk_count


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_it_erases_a_whole_collection(parts, handbook, admin):
    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)
    key = handbook.store_key

    waiting = accept_archive(handbook, "more.zip", ContentFile(zipped({"a.md": b"# A\n\nText."}), name="more.zip"), admin)
    assert blob_path(waiting).exists()

    erase_collection(handbook, admin, parts.store)

    assert parts.store.count([key]) == 0
    assert not blob_path(document).exists()
    assert not blob_path(waiting).exists()  # a zip not unpacked yet leaves no copy behind
    assert not Document.objects.exists()
    assert LedgerEntry.objects.filter(action="collection.erased").count() == 1


def test_erasing_a_document_takes_its_quotes_out_of_the_exchanges_that_showed_them(parts, handbook, admin, analyst):
    from appliance.answering.conversations import ERASED_ANSWER
    from appliance.answering.models import Conversation, Exchange

    document = index_document(upload(handbook, "travel.md", POLICY, admin), parts)
    chunk = Chunk.objects.filter(document=document).first()
    at = chunk.text.index("14 days")
    source = {"n": 1, "chunk_id": chunk.chunk_id, "document": "travel.md", "page": None, "section": chunk.section}
    other = {"n": 2, "chunk_id": "elsewhere", "document": "hours.md", "page": None, "section": "Hours"}
    kept = {**other, "text": "The office opens at 08:00.", "start": 0, "end": 26}
    exchange = Exchange.objects.create(
        conversation=Conversation.objects.create(user=analyst), question="How early do I book flights?",
        status="answered", outcome="quoted", answer=f"The documents say:\n“{chunk.text[:at + 7]}” [1]", cited=[1],
        sources=[source, other], evidence=[{**source, "text": chunk.text[:at + 7], "start": 0, "end": at + 7}, kept],
        passage_entities={chunk.chunk_id: [[0, 4, "PERSON"]], "elsewhere": []})

    erase_document(document, admin, parts.store)

    exchange.refresh_from_db()
    assert exchange.answer == ERASED_ANSWER and exchange.cited == []
    assert exchange.evidence == [kept]
    assert exchange.passage_entities == {"elsewhere": []}
    assert exchange.sources == [source, other]
    assert LedgerEntry.objects.get(action="document.erased").details["exchanges"] == 1
