import pytest

pytestmark = pytest.mark.services

ROLE_PAGES = {"analyst": "/analyst/", "admin": "/administration/", "officer": "/compliance/"}


@pytest.mark.parametrize("page", ["/", "/analyst/", "/administration/", "/compliance/", "/account/tokens/"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, page):
    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={page}"


@pytest.mark.parametrize("person", ["analyst", "admin", "officer"])
def test_it_sends_each_role_to_its_home_page(client, request, person):
    client.force_login(request.getfixturevalue(person))

    response = client.get("/", follow=True)

    assert response.redirect_chain == [(ROLE_PAGES[person], 302)]
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("person", "page"),
    [
        ("analyst", "/administration/"),
        ("analyst", "/compliance/"),
        ("admin", "/analyst/"),
        ("admin", "/compliance/"),
        ("officer", "/analyst/"),
        ("officer", "/administration/"),
        ("outsider", "/analyst/"),
        ("outsider", "/administration/"),
        ("outsider", "/compliance/"),
    ],
)
def test_it_forbids_pages_of_other_roles(client, request, person, page):
    client.force_login(request.getfixturevalue(person))

    response = client.get(page)

    assert response.status_code == 403
    assert b"Not allowed for your role" in response.content


def test_it_tells_a_person_without_a_role_what_to_do(client, outsider):
    client.force_login(outsider)

    response = client.get("/")

    assert response.status_code == 200
    assert b"Your account has no role yet" in response.content


def test_it_shows_admins_the_worker_and_the_shipped_models(client, admin):
    client.force_login(admin)

    page = client.get("/administration/").content.decode()

    assert "never seen" in page  # no worker has checked in during this test
    assert "SmolLM2-135M-Instruct Q4_1" in page and "Gemma 3 270M Q4_K_M" in page
    assert "missing" not in page
    assert "bob" in page


def test_it_shows_an_analyst_the_teams_that_open_collections(client, analyst):
    client.force_login(analyst)

    page = client.get("/analyst/").content.decode()

    assert "<li>analysts</li>" in page
    assert "No collection is granted to your teams yet." in page


def test_it_shows_an_analyst_only_the_collections_granted_to_their_teams(client, analyst, admin):
    from django.contrib.auth.models import Group

    from ingest.collections import create_collection

    create_collection("Team handbook", "internal", [Group.objects.get(name="analysts")], False, admin)
    create_collection("Board minutes", "restricted", [], False, admin)
    client.force_login(analyst)

    page = client.get("/analyst/").content.decode()

    assert "Team handbook" in page
    assert "Board minutes" not in page


def test_it_signs_people_in_with_their_password(client, analyst):
    response = client.post("/login/", {"username": "alice", "password": "correct horse battery staple"}, follow=True)

    assert response.redirect_chain[-1] == ("/analyst/", 302)


def test_it_refuses_a_wrong_password_with_a_clear_message(client, analyst):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Your username and password didn't match. Please try again.".encode() in response.content


def test_it_signs_out_only_by_post(client, analyst):
    client.force_login(analyst)

    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/analyst/").status_code == 302


def test_it_locks_sign_in_after_five_failures_even_with_the_right_password(client, analyst):
    for _ in range(4):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 429

    response = client.post("/login/", {"username": "alice", "password": "correct horse battery staple"})

    assert response.status_code == 429
    assert ("Too many failed sign-ins for this account from your address. Try again in 15 minutes, "
            "or ask an administrator to reset your password.") in response.content.decode()
    assert client.get("/analyst/").status_code == 302  # still signed out


def test_it_forgets_failures_after_a_successful_sign_in(client, analyst):
    for _ in range(4):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    client.post("/login/", {"username": "alice", "password": "correct horse battery staple"})
    client.logout()

    for _ in range(4):
        client.post("/login/", {"username": "alice", "password": "wrong"})

    assert client.post("/login/", {"username": "alice", "password": "correct horse battery staple"}).status_code == 302
