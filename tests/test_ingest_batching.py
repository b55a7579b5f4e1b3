"""Indexing many documents at once (ingest.batching): the real parsers, Presidio in its own process,
MiniLM and Qdrant Edge, with the promises index_document makes for each document."""
import pytest

from appliance.audit.models import LedgerEntry
from appliance.retrieval.searching import search_chunks
from appliance.runtime import scanner_process
from ingest.batching import ScanHere, index_documents
from ingest.collections import create_collection
from ingest.indexing import index_document
from ingest.models import Chunk, Document
from tests import documents
from tests.conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.services]

TOPICS = ["leave", "expenses", "travel", "laptops", "parking", "training", "security", "meetings", "payroll",
          "onboarding", "canteen", "remote work"]


def handbook_page(topic: str) -> bytes:
    sections = "\n\n".join(
        f"## {topic.title()} rule {n}\n\nThe {topic} rule {n} says staff ask the office {n} days ahead. "
        f"Questions about {topic} go to Maria Keller at maria.keller@example.com or +49 30 901820."
        if n % 2 else f"## {topic.title()} rule {n}\n\nThe {topic} rule {n} applies to every team for {n} weeks."
        for n in range(1, 5)
    )
    return f"# {topic.title()}\n\n{sections}\n".encode()


@pytest.fixture
def handbook(admin):
    return create_collection("Handbook", "internal", [], False, admin)


def points_of(parts, collection, document) -> list:
    hits = parts.store.search([1.0] + [0.0] * 383, collections=[collection.store_key], limit=1000)
    return [hit for hit in hits if hit.document_id == str(document.uid)]


def test_it_indexes_many_documents_each_once_with_its_own_ledger_event(parts, handbook, admin):
    uploaded = [upload(handbook, f"{topic}.md", handbook_page(topic), admin) for topic in TOPICS]

    done = list(index_documents(((d.filename, d) for d in uploaded), parts, scanner_process(), batch_chunks=10))

    assert [tag for tag, _ in done] == [f"{topic}.md" for topic in TOPICS]  # in the order given
    for _, document in done:
        assert document.status == "ready", document.error_message
        points = points_of(parts, handbook, document)
        assert sorted(hit.chunk_id for hit in points) == sorted(document.chunks.values_list("chunk_id", flat=True))
        assert document.chunk_count == len(points) == 4
        assert document.entity_counts["EMAIL_ADDRESS"] == 2
    indexed = LedgerEntry.objects.filter(action="document.indexed")
    assert sorted(entry.details["filename"] for entry in indexed) == sorted(f"{topic}.md" for topic in TOPICS)
    best = search_chunks("How many weeks does the parking rule 2 apply?", [handbook], parts, limit=1)[0]
    assert (best["document"], best["section"]) == ("parking.md", "Parking > Parking rule 2")


def test_it_labels_and_redacts_as_index_document_does(parts, admin):
    alone = create_collection("Alone", "internal", [], True, admin)
    batched = create_collection("Batched", "internal", [], True, admin)
    single = [index_document(upload(alone, f"{topic}.md", handbook_page(topic), admin), parts) for topic in TOPICS[:3]]

    many = [d for _, d in index_documents(
        ((None, upload(batched, f"{topic}.md", handbook_page(topic), admin)) for topic in TOPICS[:3]),
        parts, scanner_process())]

    def seen(document):
        return (document.status, document.sensitivity, document.entity_counts,
                [(c.section, c.text, c.sensitivity, c.entity_types) for c in document.chunks.order_by("ordinal")])

    assert [seen(d) for d in many] == [seen(d) for d in single]
    assert all("maria.keller@example.com" not in chunk.text for chunk in Chunk.objects.all())


def test_it_fails_a_bad_document_alone_with_its_reason(parts, handbook, admin):
    good = [upload(handbook, f"{topic}.md", handbook_page(topic), admin) for topic in TOPICS[:4]]
    bad = upload(handbook, "minutes.pdf", documents.corrupt_pdf(), admin)
    alone = index_document(upload(create_collection("Alone", "internal", [], False, admin), "minutes.pdf",
                                  documents.corrupt_pdf(), admin), parts)

    done = dict(index_documents(((d.filename, d) for d in [*good[:2], bad, *good[2:]]), parts, ScanHere(parts)))

    assert (done["minutes.pdf"].status, done["minutes.pdf"].error_message) == ("failed", alone.error_message)
    assert points_of(parts, handbook, bad) == []
    assert [done[d.filename].status for d in good] == ["ready"] * 4


def test_it_leaves_nothing_of_a_document_erased_while_its_batch_was_under_way(parts, handbook, admin):
    first, second, third = (upload(handbook, f"{topic}.md", handbook_page(topic), admin) for topic in TOPICS[:3])

    def items():
        yield None, first
        # The pipeline has parsed FIRST and asks for the next: now an admin asks to erase FIRST.
        Document.objects.filter(pk=first.pk).update(status=Document.Status.ERASING)
        yield None, second
        yield None, third

    done = [d for _, d in index_documents(items(), parts, scanner_process())]

    assert [d.status for d in done] == ["erasing", "ready", "ready"]
    assert points_of(parts, handbook, first) == [] and not first.chunks.exists()
    assert len(points_of(parts, handbook, second)) == second.chunk_count == 4


def test_it_passes_items_without_a_document_through_and_leaves_finished_documents_alone(parts, handbook, admin):
    ready = index_document(upload(handbook, "leave.md", handbook_page("leave"), admin), parts)
    indexed_at = ready.indexed_at

    done = list(index_documents([("unreadable", None), ("again", ready)], parts, ScanHere(parts)))

    assert [(tag, d and d.status) for tag, d in done] == [("unreadable", None), ("again", "ready")]
    assert Document.objects.get(pk=ready.pk).indexed_at == indexed_at
    assert LedgerEntry.objects.filter(action="document.indexed").count() == 1
