"""Sensitivity labels at ingestion, through real indexing (parsers, Presidio, MiniLM, Qdrant Edge):
which personal data raises a document's label is the policy's to say, and the admin reads why."""
import pytest

from appliance.audit.models import LedgerEntry
from guardrails.policy import DEFAULT_RULES
from guardrails.publishing import current_policy_version, publish_policy
from ingest.collections import create_collection
from ingest.indexing import index_document
from tests.conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.services]

PUBLIC_FAQ = b"""# Opening hours

## Support desk

The support desk is open from 08:00 to 18:00 CET, Monday to Friday, for customers across Europe.
On 24 December and 31 December it closes at noon. Our offices in Germany and France follow the same hours.

## Orders

Orders placed before 14:00 ship the same day. See https://shop.example.com/shipping for delivery times.
"""

SUPPLIER_NOTE = b"""# Supplier payments

Pay invoices for Nordlicht GmbH into DE89 3704 0044 0532 0130 00.
Questions to billing@example.com or accounts@example.com.
"""


@pytest.fixture
def public_faqs(admin):
    return create_collection("Public FAQ", "public", [], False, admin)


def test_it_keeps_a_public_document_without_personal_data_public(parts, public_faqs, admin):
    document = index_document(upload(public_faqs, "faq.md", PUBLIC_FAQ, admin), parts)

    assert document.status == "ready", document.error_message
    assert document.sensitivity == "public"
    assert {chunk.sensitivity for chunk in document.chunks.all()} == {"public"}
    assert document.sensitivity_reason.startswith("public: no personal data that raises the label; it contains ")
    assert document.sensitivity_reason.endswith("(policy v1)")
    hits = parts.store.search([1.0] + [0.0] * 383, collections=[public_faqs.store_key], limit=100)
    assert {hit.payload["sensitivity"] for hit in hits} == {"public"}


def test_it_tells_the_admin_why_a_document_got_its_label(parts, public_faqs, admin, client):
    document = index_document(upload(public_faqs, "suppliers.md", SUPPLIER_NOTE, admin), parts)
    client.force_login(admin)

    page = client.get(f"/administration/collections/{public_faqs.pk}/").content.decode()

    assert document.sensitivity == "restricted"
    assert document.sensitivity_reason == "restricted because it contains 1 IBAN and 2 e-mail addresses (policy v1)"
    assert "Restricted because it contains 1 IBAN and 2 e-mail addresses (policy v1)" in page
    event = LedgerEntry.objects.get(action="document.indexed")
    assert (event.details["sensitivity_reason"], event.details["policy_version"]) == (document.sensitivity_reason, 1)


def test_it_names_the_collection_when_its_classification_sets_the_label(parts, admin):
    internal = create_collection("Handbook", "internal", [], False, admin)

    document = index_document(upload(internal, "faq.md", PUBLIC_FAQ, admin), parts)

    assert document.sensitivity == "internal"
    assert document.sensitivity_reason == "internal because its collection is classified internal (policy v1)"


def test_it_labels_by_the_policy_in_force_when_the_document_is_indexed(parts, public_faqs, admin, officer):
    current_policy_version()
    labels = {**DEFAULT_RULES["entity_labels"], "LOCATION": "confidential"}
    publish_policy({**DEFAULT_RULES, "entity_labels": labels}, "Places are confidential here", officer)

    document = index_document(upload(public_faqs, "faq.md", PUBLIC_FAQ, admin), parts)

    assert document.sensitivity == "confidential"
    assert document.sensitivity_reason.startswith("confidential because it contains ")
    assert "places" in document.sensitivity_reason and document.sensitivity_reason.endswith("(policy v2)")
