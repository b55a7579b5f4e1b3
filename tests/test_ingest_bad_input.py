"""Every hostile or broken file fails alone, with its reason; the rest of the batch is indexed,
nothing of the bad file reaches the store, and the pipeline goes on (real parsers, Presidio,
MiniLM, Qdrant Edge)."""
import pytest

from ingest.collections import create_collection
from ingest.indexing import index_document
from appliance.retrieval.searching import search_chunks
from tests import documents
from tests.conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.services]

GOOD = b"# Leave\n\nAnnual leave requests are approved by the line manager within five working days.\n"

BAD_FILES = {
    "corrupt.pdf": (documents.corrupt_pdf(), "corrupt_pdf"),
    "locked.pdf": (documents.encrypted_pdf(), "encrypted_pdf"),
    "bomb.docx": (documents.zip_bomb_docx(), "zip_bomb"),
    "empty.txt": (b"", "empty_file"),
    "huge.txt": (b"a " * 25_000_001, "too_large"),  # 50 MB of text, over the 25 MB limit
    "report.pdf": (b"Quarterly figures, plain text pretending to be a PDF.\n" * 5, "type_mismatch"),
    "program.txt": (documents.elf_executable(), "type_mismatch"),
    "binary.txt": (b"\x00\x01\x02\x03" * 400, "type_mismatch"),
    "archive.zip": (documents.zip_archive(), "unsupported_type"),
}


@pytest.fixture
def collection(admin):
    return create_collection("Batch", "internal", [], False, admin)


@pytest.fixture
def ingest(parts):
    def ingest(collection, filename, data):
        document = upload(collection, filename, data)
        return index_document(document, parts) if document.status == "queued" else document

    return ingest


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_it_fails_a_bad_file_alone_and_indexes_the_rest(collection, ingest, parts, filename):
    data, code = BAD_FILES[filename]

    bad = ingest(collection, filename, data)
    good = ingest(collection, "leave.md", GOOD)

    assert (bad.status, bad.error_code) == ("failed", code)
    assert bad.error_message.startswith(f"“{filename}”") or code == "too_large"
    assert not bad.chunks.exists()
    assert good.status == "ready"
    hits = search_chunks("Who approves annual leave?", [collection], parts, limit=10)
    assert {hit["document"] for hit in hits} == {"leave.md"}


def test_it_never_reads_an_oversized_file(collection, ingest):
    huge = ingest(collection, "huge.txt", b"a " * 25_000_001)

    assert huge.error_message == "The file is 50.0 MB; the limit is 25 MB (INGEST_MAX_FILE_MB)."
    assert huge.content_sha256 == ""  # rejected on its size alone


def test_it_indexes_html_without_its_scripts(collection, ingest):
    page = ingest(collection, "fees.html", documents.html_page())

    text = " ".join(page.chunks.values_list("text", flat=True))
    assert page.status == "ready"
    assert "Fees are charged monthly." in text
    assert not any(marker in text for marker in ("SCRIPT-TEXT", "NOSCRIPT-TEXT", "IFRAME-TEXT", "SVG-TEXT"))


def test_it_reads_text_that_is_not_utf8(collection, ingest):
    notice = ingest(collection, "notice.txt", "Café opening hours: the crème brûlée stand opens at noon.".encode("cp1252"))

    assert notice.status == "ready"
    assert notice.chunks.get().text == "Café opening hours: the crème brûlée stand opens at noon."
