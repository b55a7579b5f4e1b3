import re

import pytest

pytestmark = pytest.mark.services


def create_token(client, person) -> str:
    client.force_login(person)
    page = client.post("/account/tokens/").content.decode()
    return re.search(r'<pre class="secret" id="new-token">([^<]+)</pre>', page).group(1)


def test_it_answers_a_token_with_its_owner_and_roles(client, analyst):
    token = create_token(client, analyst)
    client.logout()

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert response.json() == {"username": "alice", "roles": ["analyst"]}


def test_it_shows_a_token_once_and_stores_only_a_hash(client, analyst):
    from knox.models import AuthToken

    token = create_token(client, analyst)

    listing = client.get("/account/tokens/").content.decode()
    assert token not in listing
    assert token[:8] in listing  # the prefix identifies it
    stored = AuthToken.objects.get(user=analyst)
    assert token not in (stored.digest, stored.token_key)


def test_it_refuses_requests_without_a_valid_token(client, analyst):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Token rag_not-a-real-token").status_code == 401


def test_it_refuses_a_revoked_token(client, analyst):
    from knox.models import AuthToken

    token = create_token(client, analyst)
    key = AuthToken.objects.get(user=analyst).token_key
    response = client.post(f"/account/tokens/{key}/revoke/", follow=True)
    client.logout()

    assert b"revoked" in response.content
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_it_does_not_let_one_person_revoke_anothers_token(client, analyst, admin):
    from knox.models import AuthToken

    create_token(client, analyst)
    key = AuthToken.objects.get(user=analyst).token_key
    client.force_login(admin)

    assert client.post(f"/account/tokens/{key}/revoke/").status_code == 404
    assert AuthToken.objects.filter(user=analyst).exists()
