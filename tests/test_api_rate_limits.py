"""One person may queue only API_ASK_RATE questions through the API; the next one gets 429 in the
API's error shape, with Retry-After, and nothing is queued. The counts are shared by every process."""
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache

from appliance.accounts.roles import Role
from appliance.accounts.tokens import issue_api_token
from appliance.answering.models import Exchange
from tests.conftest import REPO, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.services]

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def ask(client, person, question="When does the office open?"):
    return client.post("/api/v1/questions", {"question": question}, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {issue_api_token(person)}")


def test_it_refuses_questions_beyond_the_rate_until_the_window_has_passed(client, analyst, two_team_corpus, settings, clock):
    settings.API_ASK_RATE = "2/min"

    assert [ask(client, analyst).status_code for _ in range(2)] == [202, 202]
    clock.shift(timedelta(seconds=20))
    refused = ask(client, analyst)

    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests: try again in 40 seconds.", "code": "throttled"}
    assert refused["Retry-After"] == "40"
    assert Exchange.objects.count() == 2
    clock.shift(timedelta(seconds=41))
    assert ask(client, analyst).status_code == 202


def test_each_person_has_their_own_allowance(client, analyst, two_team_corpus, settings, clock):
    settings.API_ASK_RATE = "1/min"
    colleague = make_person("erin", Role.ANALYST, "analysts")

    assert [ask(client, analyst).status_code, ask(client, analyst).status_code] == [202, 429]
    assert ask(client, colleague).status_code == 202


def test_reading_answers_is_not_limited(client, analyst, two_team_corpus, settings, clock):
    settings.API_ASK_RATE = "1/min"
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)}"}
    asked = ask(client, analyst).json()

    for _ in range(5):
        assert client.get(f"/api/v1/questions/{asked['id']}", **headers).status_code == 200


def test_it_allows_thirty_questions_a_minute_by_default(settings):
    assert settings.API_ASK_RATE == "30/min"


def test_every_process_counts_in_the_same_cache():
    # Another process (a second gunicorn worker, say) writes; this one reads what it wrote.
    subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c",
                    "from django.core.cache import cache; cache.set('written-by-another-process', 42, 60)"],
                   cwd=REPO, check=True, capture_output=True, timeout=120)

    assert cache.get("written-by-another-process") == 42


def test_the_chat_counts_with_the_api_and_keeps_the_question(client, analyst, two_team_corpus, settings, clock):
    settings.API_ASK_RATE = "2/min"
    assert ask(client, analyst).status_code == 202
    client.force_login(analyst)

    first = client.post("/analyst/ask/send/", {"question": "Where do I park?"})
    refused = client.post("/analyst/ask/send/", {"question": "Who books hotels?"})

    assert first.status_code == 302
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    page = refused.content.decode()
    assert ("You have asked many questions in a short time. Your question is still in the box: "
            "ask it again in 60 seconds.") in page
    assert ">Who books hotels?</textarea>" in page
    assert Exchange.objects.count() == 2
