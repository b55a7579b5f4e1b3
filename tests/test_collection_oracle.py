"""Asking about a collection one may not see says the same thing whether it exists or not, in the
chat, the API and `ask`: no surface lets an analyst confirm the names of collections hidden from them."""
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import escape

from appliance.accounts.tokens import issue_api_token
from appliance.answering.models import Exchange

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

HIDDEN, MISSING = "HR cases", "Nowhere"


def page_without(response, name: str) -> str:
    """The page with the collection's name and the (per-request) CSRF token taken out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode().replace(name, "X"))


def test_it_answers_the_chat_alike_for_a_hidden_and_a_missing_collection(client, analyst, two_team_corpus):
    client.force_login(analyst)

    hidden = client.post("/analyst/ask/send/", {"question": "When?", "collection": [HIDDEN]})
    missing = client.post("/analyst/ask/send/", {"question": "When?", "collection": [MISSING]})

    assert (hidden.status_code, missing.status_code) == (403, 403)
    assert escape("You have no collection named “HR cases”.") in hidden.content.decode()
    assert escape("You have no collection named “Nowhere”.") in missing.content.decode()
    assert page_without(hidden, HIDDEN) == page_without(missing, MISSING)
    assert not Exchange.objects.exists()


def test_it_answers_the_api_alike_for_a_hidden_and_a_missing_collection(client, analyst, two_team_corpus):
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)}"}

    hidden = client.post("/api/v1/questions", {"question": "When?", "collections": [HIDDEN]},
                         content_type="application/json", **headers)
    missing = client.post("/api/v1/questions", {"question": "When?", "collections": [MISSING]},
                          content_type="application/json", **headers)

    assert (hidden.status_code, hidden.json()) == (
        403, {"error": "You have no collection named “HR cases”.", "code": "collection_not_granted"})
    assert (missing.status_code, missing.json()) == (
        403, {"error": "You have no collection named “Nowhere”.", "code": "collection_not_granted"})
    assert not Exchange.objects.exists()


@pytest.mark.parametrize("name", [HIDDEN, MISSING])
def test_it_answers_ask_alike_for_a_hidden_and_a_missing_collection(two_team_corpus, name):
    with pytest.raises(CommandError) as error:
        call_command("ask", "When is the hearing?", user="alice", collections=[name], stdout=StringIO())

    assert str(error.value) == f"You have no collection named “{name}”."
