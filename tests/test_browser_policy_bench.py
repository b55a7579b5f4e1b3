"""A compliance officer tries a draft policy on the test bench in headless Chromium: a real worker
screens the question under the draft and under the version in force, and a stored question the
draft would block shows as newly blocked in the replay, with a link to its trace."""
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from appliance.answering.models import Conversation, Exchange
from appliance.audit.recording import record_event
from guardrails.models import PolicyVersion
from guardrails.publishing import current_policy_version
from tests.conftest import ARTIFACTS, start_worker, stop_worker
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MERGERS = "Which companies are we about to acquire?"


def test_an_officer_sees_a_question_newly_blocked_under_the_draft(browser, live_server, officer, analyst):  # noqa: F811
    current_policy_version()
    trace_id = uuid.uuid4().hex
    Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question=MERGERS,
                            status=Exchange.Status.ANSWERED, outcome=Exchange.Outcome.ANSWERED, trace_id=trace_id)
    trace = record_event("answer.answered", analyst, ("trace", trace_id), sealed={"question": MERGERS},
                         verdict={"action": "clean", "findings": []})
    record_event("review.reviewed", officer, ("trace", trace_id), seq=trace.seq)  # targets the same trace, later
    worker = start_worker()
    browser.set_window_size(1280, 1400)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        sign_in(browser, live_server, officer.username)
        browser.get(f"{live_server.url}/compliance/policy/")
        browser.find_element(By.CSS_SELECTOR, ".policy-entities").location_once_scrolled_into_view
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-table.png"))  # the action selects show their words
        browser.find_element(By.NAME, "denied_topics").send_keys(f"Mergers: {MERGERS}")
        browser.find_element(By.ID, "bench-question").send_keys("Which companies are we about to acquire next year?")
        browser.find_element(By.ID, "bench-screen").click()
        WebDriverWait(browser, 180, poll_frequency=0.3).until(
            lambda b: b.find_element(By.ID, "bench-result").get_attribute("data-status") == "done")
        draft = browser.find_element(By.ID, "bench-draft").text
        current = browser.find_element(By.ID, "bench-current").text
        change = browser.find_element(By.ID, "bench-change").text

        browser.find_element(By.ID, "replay-count").clear()
        browser.find_element(By.ID, "replay-count").send_keys("100")
        browser.find_element(By.ID, "bench-replay").click()
        WebDriverWait(browser, 180, poll_frequency=0.3).until(
            lambda b: b.find_element(By.ID, "replay-result").get_attribute("data-status") == "done")
        counts = browser.find_element(By.ID, "replay-counts").text
        row = browser.find_element(By.CSS_SELECTOR, "#replay-changes tbody tr").text
        link = browser.find_element(By.CSS_SELECTOR, "#replay-changes a").get_attribute("href")
        browser.find_element(By.ID, "policy-bench").location_once_scrolled_into_view
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-bench.png"))
    finally:
        output = stop_worker(worker)
    assert draft.startswith("Under your draft\nBlocked\n"), output
    assert "It matches the denied topic 'Mergers': blocks denied_topic" in draft.splitlines()
    assert current.startswith("Under v1, in force\nClean")
    assert change == "Your draft changes this verdict: clean → blocked."
    assert "1 newly blocked" in counts and "0 newly allowed" in counts
    assert f"{MERGERS} Newly blocked Clean Blocked it matches the denied topic 'Mergers'" in row
    assert link == f"{live_server.url}/compliance/ledger/entries/{trace.seq}/"
    assert PolicyVersion.objects.count() == 1  # nothing was published
