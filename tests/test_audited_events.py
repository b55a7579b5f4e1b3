"""Every event the audit issue lists produces a ledger entry: uploads, replacements, erasures,
grant changes, policy changes, model registry changes, role changes, failed sign-ins and denied
access (answers, refusals and blocks: test_answering_proof.py; ledger reads and exports:
test_ledger_views.py and test_ledger.py)."""
import pytest
from django.contrib.auth.models import Group

from appliance.accounts.roles import Role, roles_of, set_roles
from appliance.audit.models import LedgerEntry
from appliance.audit.verification import verify_ledger
from appliance.routing.registry import register_shipped_models, set_model_enabled
from guardrails.policy import DEFAULT_RULES
from guardrails.publishing import publish_policy
from ingest.collections import create_collection, update_collection
from ingest.erasure import request_document_erasure
from tests.conftest import make_person, upload

pytestmark = [pytest.mark.services]


def actions() -> list[str]:
    return list(LedgerEntry.objects.values_list("action", flat=True))


@pytest.mark.django_db
def test_each_administrative_change_writes_its_entry(admin, officer):
    team = Group.objects.create(name="legal")
    collection = create_collection("Contracts", "internal", [team], False, admin)
    update_collection(collection, classification="confidential", groups=[], redact_pii=False, actor=admin)
    first = upload(collection, "a.md", b"# Terms\n\nNotice is 90 days.", admin)
    upload(collection, "a.md", b"# Terms\n\nNotice is 60 days.", admin, replaces=first)
    request_document_erasure(first, admin)
    publish_policy({**DEFAULT_RULES, "max_question_chars": 3000}, "Shorter questions", officer)
    model = register_shipped_models(admin)[0]
    set_model_enabled(model, False, admin)

    assert [a for a in actions() if not a.startswith("policy.") or a == "policy.published"] == [
        "collection.created", "collection.settings_changed", "collection.grants_changed", "document.uploaded",
        "document.uploaded", "document.erasure_requested", "policy.published", "model.registered", "model.registered",
        "model.disabled",
    ]
    replaced = LedgerEntry.objects.filter(action="document.uploaded").last()
    assert (replaced.details["version"], replaced.actor_name) == (2, "bob")
    assert verify_ledger().is_intact


@pytest.mark.django_db
def test_a_role_change_is_recorded_with_what_was_granted_and_revoked(admin):
    person = make_person("dana", Role.ANALYST)

    assert set_roles(person, [Role.COMPLIANCE], admin) == (["compliance"], ["analyst"])
    assert set_roles(person, [Role.COMPLIANCE], admin) == ([], [])  # no change, no entry

    entry = LedgerEntry.objects.get(action="roles.changed")
    assert (entry.actor_name, entry.target_type, entry.details) == (
        "bob", "user", {"username": "dana", "granted": ["compliance"], "revoked": ["analyst"]})
    assert roles_of(person) == [Role.COMPLIANCE]


@pytest.mark.django_db
def test_an_admin_changes_roles_in_the_browser_but_never_their_own(client, admin):
    person = make_person("dana", Role.ANALYST)
    client.force_login(admin)

    response = client.post(f"/administration/people/{person.pk}/roles/", {"role_analyst": "1", "role_admin": "1"}, follow=True)
    assert "dana: granted admin." in response.content.decode()

    response = client.post(f"/administration/people/{admin.pk}/roles/", {"role_compliance": "1"}, follow=True)
    assert "You cannot change your own roles; ask another administrator." in response.content.decode()
    assert roles_of(admin) == [Role.ADMIN]
    assert LedgerEntry.objects.filter(action="roles.changed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["analyst", "officer", "outsider"])
def test_only_admins_change_roles(client, person, request):
    target = make_person("dana", Role.ANALYST)
    client.force_login(request.getfixturevalue(person))

    assert client.post(f"/administration/people/{target.pk}/roles/", {"role_admin": "1"}).status_code == 403
    assert roles_of(target) == [Role.ANALYST]


@pytest.mark.django_db
def test_a_failed_sign_in_is_recorded_without_the_password(client, analyst):
    client.post("/login/", {"username": "alice", "password": "not-her-password-123"})

    entry = LedgerEntry.objects.get(action="login.failed")
    assert entry.details == {"username": "alice", "address": "127.0.0.1"}
    assert "not-her-password" not in str(entry.details) + str(entry.sealed)


@pytest.mark.django_db
def test_denied_access_is_recorded_with_who_and_where(client, analyst):
    client.force_login(analyst)

    assert client.get("/compliance/policy/?q=secret").status_code == 403

    entry = LedgerEntry.objects.get(action="access.denied")
    assert (entry.actor_name, entry.details) == ("alice", {"path": "/compliance/policy/", "method": "GET"})


@pytest.mark.django_db
def test_an_api_call_without_the_role_is_recorded_as_denied(client, officer):
    from appliance.accounts.tokens import issue_api_token

    token = issue_api_token(officer)

    assert client.get("/api/v1/collections", HTTP_AUTHORIZATION=f"Token {token}").status_code == 403
    assert LedgerEntry.objects.get(action="access.denied").details["path"] == "/api/v1/collections"
