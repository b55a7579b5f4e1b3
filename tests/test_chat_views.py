"""The analyst's chat pages and endpoints; the worker's part is run by calling the task's function."""
import pytest

from appliance.answering.conversations import run_exchange
from appliance.answering.models import Conversation, Exchange
from tests.conftest import make_person

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_an_analyst_asks_and_the_worker_answers(analyst_client, two_team_corpus, parts):
    response = analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?", "collection": ["Handbook"]})

    exchange = Exchange.objects.get()
    assert response["Location"] == f"/analyst/conversations/{exchange.conversation_id}/"
    assert exchange.status == "queued"
    assert run_exchange(exchange.pk, parts) is True
    assert run_exchange(exchange.pk, parts) is False  # a redelivered task finds it claimed
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    assert state["status"] == "answered" and state["answer"] and not state["in_progress"]
    assert state["route"]["perimeter"] == "internal"
    assert [source["document"] for source in state["sources"]] == ["Handbook.md"]
    passage = analyst_client.get(f"/analyst/passages/{state['sources'][0]['chunk_id']}/").json()
    assert passage == {"document": "Handbook.md", "section": "Hours", "page": None,
                       "text": "The office opens at 8:00 on weekdays."}
    page = analyst_client.get(response["Location"]).content.decode()
    assert "When does the office open?" in page and "answered inside the perimeter" in page


def test_a_conversation_that_touched_protected_data_stays_inside(analyst_client, two_team_corpus, parts, analyst):
    analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?", "collection": ["Handbook"]})
    run_exchange(Exchange.objects.get().pk, parts)

    assert Conversation.objects.get().sensitivity == "internal"


def test_it_explains_a_question_it_cannot_take(analyst_client, two_team_corpus):
    empty = analyst_client.post("/analyst/ask/send/", {"question": "   "})
    not_granted = analyst_client.post("/analyst/ask/send/", {"question": "When?", "collection": ["HR cases"]})

    assert empty.status_code == 400 and "The question is empty." in empty.content.decode()
    assert not_granted.status_code == 403
    assert "The collection “HR cases” is not granted to any of your teams." in not_granted.content.decode()
    assert not Exchange.objects.exists()


def test_it_shows_nobody_else_an_analysts_answers_or_ungranted_passages(analyst_client, two_team_corpus, parts, client):
    analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?"})
    exchange = Exchange.objects.get()
    run_exchange(exchange.pk, parts)
    colleague = make_person("erin", "analyst", "hr")
    client.force_login(colleague)

    assert client.get(f"/analyst/exchanges/{exchange.pk}/").status_code == 404
    assert client.get(f"/analyst/conversations/{exchange.conversation_id}/").status_code == 404
    handbook_chunk = exchange.__class__.objects.get().sources[0]["chunk_id"]
    assert client.get(f"/analyst/passages/{handbook_chunk}/").status_code == 404


@pytest.mark.parametrize("person", ["admin", "officer", "outsider"])
def test_only_analysts_may_ask(client, request, person):
    client.force_login(request.getfixturevalue(person))

    for method, url in [("get", "/analyst/ask/"), ("post", "/analyst/ask/send/"), ("get", "/analyst/exchanges/1/"),
                        ("get", "/analyst/passages/abc/"), ("get", "/analyst/conversations/1/")]:
        assert getattr(client, method)(url).status_code == 403, url
    assert not Exchange.objects.exists()
