"""The top navigation: each role is led to every page it may use, in plain words, and to nothing
it may not open."""
import re

import pytest

from appliance.accounts.roles import Role
from tests.conftest import make_person

pytestmark = [pytest.mark.django_db]


def navigation(client, person) -> list[tuple[str, str]]:
    client.force_login(person)
    page = client.get("/account/tokens/").content.decode()
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)


def test_an_officer_is_led_to_the_ledger_the_policy_and_the_key(client, officer):
    assert navigation(client, officer) == [
        ("/compliance/", "Compliance"), ("/compliance/ledger/", "Audit ledger"),
        ("/compliance/policy/", "Question policy"), ("/compliance/key/", "Public key"),
        ("/account/tokens/", "API tokens"),
        ("/account/password/", "Change password")]


def test_an_administrator_is_led_to_collections_models_and_people(client, admin):
    assert navigation(client, admin) == [
        ("/administration/", "Administration"), ("/administration/collections/", "Collections"),
        ("/administration/models/", "Models"), ("/administration/people/", "People"),
        ("/account/tokens/", "API tokens"),
        ("/account/password/", "Change password")]


def test_an_analyst_is_led_to_the_questions(client, analyst):
    assert navigation(client, analyst) == [
        ("/analyst/", "Analyst"), ("/analyst/ask/", "Ask"), ("/account/tokens/", "API tokens"),
        ("/account/password/", "Change password")]


def test_every_page_in_a_roles_navigation_opens_for_that_role(client, roles):
    for role in Role:
        person = make_person(f"only-{role.value}", role)
        for url, _text in navigation(client, person):
            assert client.get(url).status_code == 200, (role, url)


def test_the_people_link_lands_on_the_people_page(client, admin):
    client.force_login(admin)

    assert '<h1>People</h1>' in client.get("/administration/people/").content.decode()
