"""A document that indexing labels above its collection's classification (a restricted record in an
internal collection) is pointed out to the admin on the upload page and in the documents table."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingest.collections import create_collection
from ingest.tasks import ingest_document

pytestmark = [pytest.mark.django_db, pytest.mark.services]

RECORD = b"""# Employee record

Salary is paid into IBAN NL91 ABNA 0417 1643 00. Questions to payroll@example.com.
"""
NOTE = b"# Onboarding\n\nNew starters receive their laptop on the first day from the service desk.\n"


@pytest.fixture
def team_notes(admin):
    return create_collection("Team notes", "internal", [], False, admin)


def upload_and_index(client, collection, filename: str, data: bytes):
    """The admin's upload, then what the worker does with it, then the page the upload leads to."""
    client.post(f"/administration/collections/{collection.pk}/upload/", {"files": [SimpleUploadedFile(filename, data)]})
    ingest_document(collection.documents.get(filename=filename).pk)
    return client.get(f"/administration/collections/{collection.pk}/").content.decode()


def test_it_tells_the_admin_when_a_document_is_labelled_above_its_collection(client, admin, team_notes, parts):
    client.force_login(admin)

    page = upload_and_index(client, team_notes, "employee-record.md", RECORD)

    assert ('<p class="notice warning above-collection-summary" role="alert">1 document is labelled above this '
            "collection’s classification (internal): employee-record.md. Everyone this collection is granted to can "
            "ask about it; check that it belongs here.</p>") in page
    assert ('<p class="notice warning above-collection">Above its collection: labelled restricted, but the collection '
            "is classified internal.</p>") in page
    table = client.get(f"/administration/collections/{team_notes.pk}/documents/").content.decode()
    assert "Above its collection: labelled restricted" in table


def test_it_says_nothing_of_documents_within_their_collections_classification(client, admin, team_notes, parts):
    client.force_login(admin)

    page = upload_and_index(client, team_notes, "onboarding.md", NOTE)

    assert "above-collection" not in page and "Above its collection" not in page


def test_it_names_every_document_above_its_collection(client, admin, team_notes, parts):
    client.force_login(admin)
    upload_and_index(client, team_notes, "employee-record.md", RECORD)

    page = upload_and_index(client, team_notes, "second-record.md", RECORD + b"\nReviewed every year.\n")

    assert ("2 documents are labelled above this collection’s classification (internal): second-record.md, "
            "employee-record.md. Everyone this collection is granted to can ask about them; check that they belong "
            "here.</p>") in page
