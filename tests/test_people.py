"""The administrators' people page (/administration/people/): create a person with roles, teams
and a password (set by the administrator, or made once and shown once), change roles and teams.
Every creation and change is a ledger entry; nobody else may open it."""
import html
import re

import pytest
from django.contrib.auth.models import Group, User

from appliance.accounts.roles import Role, roles_of
from appliance.audit.models import LedgerEntry
from tests.conftest import PASSWORD, make_person

pytestmark = [pytest.mark.django_db]

PEOPLE = "/administration/people/"


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def field_errors(response) -> dict[str, list[str]]:
    errors = {}
    for field, message in re.findall(r'<p class="field-error" id="error-(\w+)" role="alert">(.*?)</p>',
                                     html.unescape(response.content.decode())):
        errors.setdefault(field, []).append(message)
    return errors


def test_an_admin_creates_an_officer_with_a_one_time_password_shown_once(admin_client):
    fraud = Group.objects.create(name="Fraud review")

    response = admin_client.post(PEOPLE, {"username": "erin", "email": "erin@example.org", "roles": ["compliance"],
                                          "teams": [fraud.pk]})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = re.search(r'<code id="one-time-password">([^<]+)</code>', response.content.decode()).group(1)
    erin = User.objects.get(username="erin")
    assert erin.check_password(password)
    assert roles_of(erin) == [Role.COMPLIANCE]
    assert list(erin.groups.exclude(name="compliance").values_list("name", flat=True)) == ["Fraud review"]
    assert erin.email == "erin@example.org"
    entry = LedgerEntry.objects.get(action="person.created")
    assert (entry.actor_name, entry.target_type, entry.target_id) == ("bob", "user", str(erin.pk))
    assert entry.details == {"username": "erin", "roles": ["compliance"], "teams": ["Fraud review"]}
    assert password not in str(entry.details) + str(entry.sealed)
    assert password not in admin_client.get(PEOPLE).content.decode()  # shown once


def test_an_admin_sets_the_password_and_makes_a_new_team(admin_client):
    response = admin_client.post(PEOPLE, {"username": "frank", "password1": "violet kettle harbour 42",
                                          "password2": "violet kettle harbour 42", "roles": ["compliance", "analyst"],
                                          "new_team": "  Fraud   review "})

    page = response.content.decode()
    assert "<strong>frank</strong> can sign in now with the password you set." in page
    assert 'id="one-time-password"' not in page
    frank = User.objects.get(username="frank")
    assert frank.check_password("violet kettle harbour 42")
    assert roles_of(frank) == [Role.ANALYST, Role.COMPLIANCE]
    assert [entry.action for entry in LedgerEntry.objects.order_by("seq")] == ["team.created", "person.created"]
    assert LedgerEntry.objects.get(action="team.created").details == {"name": "Fraud review"}
    assert LedgerEntry.objects.get(action="person.created").details["teams"] == ["Fraud review"]


def test_it_refuses_a_person_it_cannot_create_and_keeps_what_was_typed(admin_client, officer):
    response = admin_client.post(PEOPLE, {"username": "Charlie", "email": "erin@", "password1": "password123",
                                          "password2": "password123", "new_team": "compliance"})

    assert response.status_code == 400
    assert field_errors(response) == {
        "username": ["Someone is already called “Charlie”: choose another username."],
        "email": ["Enter a valid email address."],
        "password1": ["This password is too short. It must contain at least 12 characters.",
                      "This password is too common."],
        "roles": ["Choose at least one role: a person without one can do nothing here."],
        "new_team": ["“compliance” is a role, not a team: choose another name."],
    }
    assert 'value="erin@"' in response.content.decode()
    assert not LedgerEntry.objects.exists() and User.objects.count() == 2


def test_two_different_passwords_are_refused(admin_client):
    response = admin_client.post(PEOPLE, {"username": "erin", "password1": "violet kettle harbour 42",
                                          "password2": "violet kettle harbour 43", "roles": ["analyst"]})

    assert field_errors(response) == {"password2": ["The two passwords differ: type the same password twice."]}
    assert not User.objects.filter(username="erin").exists()


def test_an_admin_changes_someones_teams_and_it_is_recorded(admin_client, roles):
    erin = make_person("erin", Role.COMPLIANCE, "Legal")
    fraud = Group.objects.create(name="Fraud review")

    response = admin_client.post(f"{PEOPLE}{erin.pk}/teams/", {"teams": [fraud.pk]}, follow=True)

    assert "erin: joined Fraud review; left Legal." in response.content.decode()
    assert list(erin.groups.order_by("name").values_list("name", flat=True)) == ["Fraud review", "compliance"]
    assert LedgerEntry.objects.get(action="teams.changed").details == {
        "username": "erin", "joined": ["Fraud review"], "left": ["Legal"]}


def test_role_changes_return_to_the_people_page_and_are_recorded(admin_client, roles):
    erin = make_person("erin", Role.ANALYST)

    response = admin_client.post(f"{PEOPLE}{erin.pk}/roles/", {"role_compliance": "1"})

    assert response["Location"] == PEOPLE
    assert LedgerEntry.objects.get(action="roles.changed").details == {
        "username": "erin", "granted": ["compliance"], "revoked": ["analyst"]}


def test_the_page_lists_everyone_with_their_roles_and_teams(admin_client, analyst, officer):
    page = admin_client.get(PEOPLE).content.decode()

    assert re.findall(r'<tr data-username="([^"]+)">', page) == ["alice", "bob", "charlie"]
    alice = re.search(r'<tr data-username="alice">(.*?)</tr>', page, re.S).group(1)
    assert 'name="role_analyst" value="1" checked> Analyst' in alice
    assert re.search(r'name="teams" value="\d+" checked> analysts', alice)


@pytest.mark.parametrize("person", ["analyst", "officer", "outsider"])
def test_only_admins_may_use_the_people_page(client, request, person):
    target = make_person("erin", Role.ANALYST)
    client.force_login(request.getfixturevalue(person))

    assert client.get(PEOPLE).status_code == 403
    assert client.post(PEOPLE, {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD,
                                "roles": ["admin"]}).status_code == 403
    assert client.post(f"{PEOPLE}{target.pk}/teams/", {"teams": []}).status_code == 403
    assert client.post(f"{PEOPLE}{target.pk}/password/").status_code == 403
    assert not User.objects.filter(username="mallory").exists()
    assert not LedgerEntry.objects.filter(action__in=["person.created", "teams.changed", "password.reset"]).exists()
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


def test_an_admin_resets_a_locked_out_persons_password_to_a_one_time_one(client, admin, analyst):
    """The sign-in lockout page tells people to ask an administrator to reset their password."""
    for _ in range(5):
        client.post("/login/", {"username": analyst.username, "password": "wrong"})
    assert client.post("/login/", {"username": analyst.username, "password": PASSWORD}).status_code == 429
    client.force_login(admin)

    response = client.post(f"{PEOPLE}{analyst.pk}/password/")

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    password = re.search(r'<code id="one-time-password">([^<]+)</code>', page).group(1)
    assert "The password of <strong>alice</strong> is reset." in page
    analyst.refresh_from_db()
    assert analyst.check_password(password) and not analyst.check_password(PASSWORD)
    entry = LedgerEntry.objects.get(action="password.reset")
    assert (entry.actor_name, entry.target_id, entry.details) == ("bob", str(analyst.pk), {"username": "alice"})
    assert password not in str(entry.details) + str(entry.sealed)
    assert password not in client.get(PEOPLE).content.decode()  # shown once
    client.logout()
    signed_in = client.post("/login/", {"username": "alice", "password": password})
    assert signed_in.status_code == 302  # the lockout is lifted
    assert client.get("/analyst/")["Location"] == "/account/password/"  # and a password of her own is due


def test_an_admin_does_not_reset_their_own_password_here(admin_client, admin):
    response = admin_client.post(f"{PEOPLE}{admin.pk}/password/", follow=True)

    assert "To change your own password, use Change password: it asks for your current one." in response.content.decode()
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)
    assert not LedgerEntry.objects.filter(action="password.reset").exists()


def test_resetting_takes_a_post_and_an_existing_person(admin_client, analyst):
    assert admin_client.get(f"{PEOPLE}{analyst.pk}/password/").status_code == 405
    assert admin_client.post(f"{PEOPLE}999999/password/").status_code == 404
