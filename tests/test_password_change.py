"""Changing one's own password (/account/password/), and the rule that a password an administrator
set must be replaced at first sign-in: until then every page leads to the change page and the API
answers 403 `password_change_required`."""
import html
import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from appliance.accounts.models import PasswordChangeRequired
from appliance.accounts.tokens import issue_api_token
from appliance.audit.models import LedgerEntry
from tests.conftest import PASSWORD
from tests.test_people import field_errors

pytestmark = [pytest.mark.django_db]

CHANGE = "/account/password/"
NEW_PASSWORD = "amber lantern over the quay 7"
MUST_CHANGE = "Your password was set by an administrator. Choose your own before you go on."


def change(client, old=PASSWORD, new=NEW_PASSWORD, again=None, **kwargs):
    return client.post(CHANGE, {"old_password": old, "new_password1": new,
                                "new_password2": new if again is None else again}, **kwargs)


def sign_in(client, username: str, password: str = PASSWORD):
    """Through the login page, as a person does (django-axes needs the request)."""
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()
    return response


def everything_recorded() -> str:
    return " ".join(f"{entry.details} {entry.sealed}" for entry in LedgerEntry.objects.all())


@pytest.fixture
def frank(client, admin):
    """Created by the administrator bob on the people page with a password bob typed, then signed
    in with it by frank himself."""
    client.force_login(admin)
    client.post("/administration/people/", {"username": "frank", "password1": PASSWORD, "password2": PASSWORD,
                                            "roles": ["analyst"], "teams": []})
    client.logout()
    sign_in(client, "frank")
    return User.objects.get(username="frank")


@pytest.mark.parametrize("person", ["analyst", "admin", "officer", "outsider"])
def test_it_lets_anyone_signed_in_change_their_password_and_stay_signed_in(client, request, person):
    user = request.getfixturevalue(person)
    client.force_login(user)

    page = client.get(CHANGE).content.decode()
    response = change(client, follow=True)

    assert "<h1>Change your password</h1>" in page and 'id="must-change"' not in page
    assert "Your password is changed. Sign in with the new one from now on." in response.content.decode()
    assert response.redirect_chain[0] == ("/", 302)
    assert response.wsgi_request.user == user  # still signed in
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    entry = LedgerEntry.objects.get(action="password.changed")
    assert (entry.actor_name, entry.target_type, entry.target_id) == (user.username, "user", str(user.pk))
    assert entry.details == {"username": user.username, "was_required": False}
    assert NEW_PASSWORD not in everything_recorded() and PASSWORD not in everything_recorded()


def test_the_page_lists_what_a_new_password_needs(client, analyst):
    client.force_login(analyst)

    rules = re.search(r'<ul class="muted" id="password-rules">(.*?)</ul>', client.get(CHANGE).content.decode(), re.S)

    assert re.findall(r"<li>(.*?)</li>", html.unescape(rules.group(1))) == [
        "Your password can’t be too similar to your other personal information.",
        "Your password must contain at least 12 characters.",
        "Your password can’t be a commonly used password.",
        "Your password can’t be entirely numeric.",
    ]


def test_it_refuses_a_wrong_current_password(client, analyst):
    client.force_login(analyst)

    response = change(client, old="not my password at all")

    assert response.status_code == 400
    assert field_errors(response) == {
        "old_password": ["Your old password was entered incorrectly. Please enter it again."]}
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)
    assert not LedgerEntry.objects.filter(action="password.changed").exists()


def test_guessing_the_current_password_locks_the_account_as_failed_sign_ins_do(client, analyst):
    """A borrowed session may not try current passwords without limit: each wrong one counts as a
    failed sign-in (django-axes), and after LOGIN_FAILURE_LIMIT (5) the account is locked here and
    at the sign-in page, the right password included."""
    sign_in(client, analyst.username)
    for _ in range(4):
        assert change(client, old="not my password").status_code == 400

    assert change(client, old="not my password").status_code == 429
    locked = change(client)  # the right current password: still locked
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account from your address." in locked.content.decode()
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)  # nothing changed
    client.logout()
    assert client.post("/login/", {"username": analyst.username, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize(("new", "again", "errors"), [
    ("alice", None, ["The password is too similar to the username.",
                     "This password is too short. It must contain at least 12 characters.",
                     "This password is too common."]),
    ("password1234", None, ["This password is too common."]),
    ("283749102837", None, ["This password is entirely numeric."]),
    (NEW_PASSWORD, NEW_PASSWORD + "!", ["The two password fields didn’t match."]),
])
def test_it_refuses_a_weak_or_mistyped_new_password_with_djangos_words(client, analyst, new, again, errors):
    client.force_login(analyst)

    response = change(client, new=new, again=again)

    assert response.status_code == 400
    assert field_errors(response) == {"new_password2": errors}
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)
    assert not LedgerEntry.objects.filter(action="password.changed").exists()


def test_it_signs_out_the_persons_other_sessions(client, analyst):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(analyst)
    client.force_login(analyst)

    change(client)

    assert elsewhere.get("/analyst/")["Location"] == "/login/?next=/analyst/"
    assert client.get("/analyst/").status_code == 200


def test_anonymous_people_are_sent_to_sign_in(client, analyst):
    assert client.get(CHANGE)["Location"] == f"/login/?next={CHANGE}"
    assert change(client)["Location"] == f"/login/?next={CHANGE}"
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)


def test_people_an_administrator_creates_must_change_their_password(client, admin):
    client.force_login(admin)

    made = client.post("/administration/people/", {"username": "erin", "roles": ["analyst"]})  # one-time password
    typed = client.post("/administration/people/", {"username": "frank", "password1": PASSWORD,
                                                    "password2": PASSWORD, "roles": ["compliance"]})

    for response, username in ((made, "erin"), (typed, "frank")):
        assert (f'<p class="muted" id="must-change-note">At first sign-in, {username} must replace this password '
                "with one of their own before anything else.</p>") in response.content.decode()

    assert sorted(PasswordChangeRequired.objects.values_list("user__username", flat=True)) == ["erin", "frank"]
    assert client.get("/administration/").status_code == 200  # the administrator is not flagged


def test_a_flagged_person_is_sent_to_the_change_page_from_every_page(client, frank):
    for path in ("/", "/analyst/", "/analyst/ask/", "/account/tokens/", "/login/"):
        assert client.get(path)["Location"] == CHANGE, path
    assert client.post("/analyst/ask/send/", {"question": "When does the office open?"})["Location"] == CHANGE

    page = client.get("/", follow=True).content.decode()

    assert f'<p class="notice warning" role="alert" id="must-change">{MUST_CHANGE}</p>' in html.unescape(page)


def test_a_flagged_person_gets_403_from_the_api_with_a_session_or_a_token(client, frank):
    expected = {"error": "Your password was set by an administrator: sign in with a browser and choose your own "
                         "at /account/password/ before you use the API.",
                "code": "password_change_required"}
    token = issue_api_token(frank)

    by_session = client.get("/api/v1/me")
    by_token = client.get("/api/v1/collections", HTTP_AUTHORIZATION=f"Token {token}")

    assert (by_session.status_code, by_session.json()) == (403, expected)
    assert (by_token.status_code, by_token.json()) == (403, expected)
    assert LedgerEntry.objects.filter(action="access.denied", actor_name="frank").count() == 2


def test_a_flagged_person_may_still_sign_out(client, frank):
    response = client.post("/logout/")

    assert response["Location"] == "/login/"
    assert client.get(CHANGE)["Location"] == f"/login/?next={CHANGE}"


def test_changing_the_password_clears_the_flag_and_opens_every_page(client, frank):
    response = change(client, follow=True)

    assert [url for url, _status in response.redirect_chain] == ["/", "/analyst/"]
    assert "Your password is changed. Sign in with the new one from now on." in response.content.decode()
    assert not PasswordChangeRequired.objects.exists()
    assert client.get("/analyst/ask/").status_code == 200
    assert client.get("/api/v1/me").json() == {"username": "frank", "roles": ["analyst"]}
    assert 'id="must-change"' not in client.get(CHANGE).content.decode()
    entry = LedgerEntry.objects.get(action="password.changed")
    assert (entry.actor_name, entry.details) == ("frank", {"username": "frank", "was_required": True})
    assert PASSWORD not in everything_recorded() and NEW_PASSWORD not in everything_recorded()


def test_a_refused_change_keeps_the_flag(client, frank):
    change(client, new="short")

    assert PasswordChangeRequired.objects.filter(user=frank).exists()
    assert client.get("/analyst/")["Location"] == CHANGE


def test_the_demo_people_are_not_flagged(client, db, settings):
    settings.APPLIANCE_DEMO_PASSWORDS = {"analyst": PASSWORD, "admin": PASSWORD, "officer": PASSWORD}
    call_command("bootstrap", "--demo", stdout=StringIO())

    assert not PasswordChangeRequired.objects.exists()
    for username, home in (("analyst", "/analyst/"), ("admin", "/administration/"), ("officer", "/compliance/")):
        client.logout()
        assert sign_in(client, username)["Location"] == "/"
        assert client.get("/")["Location"] == home
        assert client.get(home).status_code == 200



def test_a_flagged_person_still_gets_the_style_sheet(client, frank):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200 and b".notice" in b"".join(response.streaming_content)
