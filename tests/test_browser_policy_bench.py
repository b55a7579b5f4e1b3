"""A compliance officer tries a draft policy on the test bench in headless Chromium: a real worker
screens the question under the draft and under the version in force, and a stored question the
draft would block shows as newly blocked in the replay, with a link to its trace; loosening the
payment-card rule flags that replay as out of date, and replaying again shows the blocked card
question newly allowed."""
import re
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from appliance.answering.models import Conversation, Exchange
from appliance.audit.recording import record_event
from guardrails.models import PolicyVersion
from guardrails.publishing import current_policy_version
from tests.conftest import ARTIFACTS, start_worker, stop_worker
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MERGERS = "Which companies are we about to acquire?"
CARD_QUESTION = "Why was card 4111 1111 1111 1111 declined at the hotel?"
PUBLIC = {"question": "public", "collections": "public", "chunks": "public", "conversation": "public"}


def replay_done(browser, *, newly_allowed: int):
    """Waits for the replay result with NEWLY_ALLOWED questions newly allowed; returns its counts."""
    def done(b):
        if b.find_element(By.ID, "replay-result").get_attribute("data-status") != "done":
            return False
        counts = b.find_element(By.ID, "replay-counts").text
        return counts if f"{newly_allowed} newly allowed" in counts else False
    return WebDriverWait(browser, 180, poll_frequency=0.3).until(done)


def test_an_officer_sees_a_question_newly_blocked_under_the_draft(browser, live_server, officer, analyst):  # noqa: F811
    current_policy_version()
    trace_id = uuid.uuid4().hex
    Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question=MERGERS,
                            status=Exchange.Status.ANSWERED, outcome=Exchange.Outcome.ANSWERED, trace_id=trace_id)
    trace = record_event("answer.answered", analyst, ("trace", trace_id), sealed={"question": MERGERS},
                         verdict={"action": "clean", "findings": []},
                         route={"name": "external-general", "sources": PUBLIC})
    # A blocked question: the analyst's exchange keeps only why; the trace keeps the question sealed.
    card_trace_id = uuid.uuid4().hex
    Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), status=Exchange.Status.BLOCKED,
                            outcome=Exchange.Outcome.BLOCKED, trace_id=card_trace_id)
    card = record_event("answer.blocked", analyst, ("trace", card_trace_id), sealed={"question": CARD_QUESTION},
                        outcome="blocked", route=None, verdict={"action": "block", "findings": [
                            {"detector": "pii", "type": "CREDIT_CARD", "start": 13, "end": 32, "action": "block"}]})
    record_event("review.reviewed", officer, ("trace", trace_id), seq=trace.seq)  # targets the same trace, later
    worker = start_worker()
    browser.set_window_size(1366, 900)  # a laptop: the bench is beside the form from 1200 px
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
        counts = replay_done(browser, newly_allowed=0)
        row = browser.find_element(By.CSS_SELECTOR, "#replay-changes tbody tr").text
        link = browser.find_element(By.CSS_SELECTOR, "#replay-changes a").get_attribute("href")
        browser.find_element(By.ID, "policy-bench").location_once_scrolled_into_view
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-bench.png"))

        # Loosen the card rule: the replay on the page is of the earlier draft, and says so.
        Select(browser.find_element(By.NAME, "action_CREDIT_CARD")).select_by_value("sensitive")
        WebDriverWait(browser, 30, poll_frequency=0.2).until(
            lambda b: b.find_element(By.ID, "replay-stale").is_displayed())
        stale = browser.find_element(By.ID, "replay-stale").text
        browser.find_element(By.ID, "replay-stale").location_once_scrolled_into_view
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-replay-stale.png"))
        browser.find_element(By.ID, "replay-again").click()
        loosened = replay_done(browser, newly_allowed=1)
        stale_after = browser.find_element(By.ID, "replay-stale").is_displayed()
        rows = [tr.text for tr in browser.find_elements(By.CSS_SELECTOR, "#replay-changes tbody tr")]
        card_link = browser.find_element(By.CSS_SELECTOR, "#replay-changes tr.change-newly_allowed a").get_attribute(
            "href")
        # The results have the page's width: no column is cut off behind a scroll bar.
        measure = """
            var table = document.getElementById("replay-changes"), box = table.getBoundingClientRect();
            return {right: box.right, width: box.width, viewport: document.documentElement.clientWidth,
                    page: document.documentElement.scrollWidth, inner: table.parentNode.scrollWidth,
                    holder: table.parentNode.clientWidth,
                    top: document.getElementById("replay-section").getBoundingClientRect().top};"""
        widths = browser.execute_script(measure)
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-replay-allowed.png"))
        browser.set_window_size(1920, 1080)
        browser.find_element(By.ID, "replay-section").location_once_scrolled_into_view
        wide = browser.execute_script(measure)
        browser.save_screenshot(str(ARTIFACTS / "officer-policy-replay-1920.png"))
        browser.set_window_size(1366, 900)

        # Publishing another draft warns that the replay is of an earlier draft; replaying this one lifts it.
        Select(browser.find_element(By.NAME, "action_LOCATION")).select_by_value("block")
        browser.find_element(By.NAME, "change_note").send_keys("Places blocked")
        browser.find_element(By.XPATH, "//form[@id='policy-form']//button[starts-with(., 'Publish as v2')]").click()
        warning = WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "publish-warning")).text
        browser.find_element(By.ID, "bench-replay").click()
        WebDriverWait(browser, 180, poll_frequency=0.3).until(
            lambda b: b.find_element(By.ID, "replay-result").get_attribute("data-status") == "done")
        warnings_after = browser.find_elements(By.CSS_SELECTOR, "#publish-warning, #publish-warning-top, #publish-anyway")
        publish_buttons = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#policy-form button")]
    finally:
        output = stop_worker(worker)
    assert draft.startswith("Under your draft\nBlocked\n"), output
    assert any(re.fullmatch(r"It matches the denied topic 'Mergers' \(similarity 0\.\d\d; blocks from 0\.75, "
                            r"reported from 0\.675\): blocks denied_topic", line) for line in draft.splitlines()), draft
    assert "Matched: Which companies are we about to acquire next year?" in draft.splitlines()
    assert current.startswith("Under v1, in force\nClean")
    assert change == "Your draft changes this verdict: clean → blocked."
    assert "1 newly blocked" in counts and "0 newly allowed" in counts
    assert (f"Newly blocked {MERGERS} May go out: only public data Blocked "
            "Your draft blocks it: it matches the denied topic 'Mergers'.") in row
    assert link == f"{live_server.url}/compliance/ledger/entries/{trace.seq}/"
    assert stale.startswith("This replay is out of date: it was of an earlier draft") and not stale_after
    assert "1 newly blocked" in loosened and "1 newly allowed" in loosened
    assert [r for r in rows if "Newly allowed" in r] == [
        r for r in rows if "Newly allowed Why was card [payment card number] declined at the hotel? Blocked "
        "Kept inside: the question is sensitive v1 blocks it: it contains a payment card number. "
        "Your draft keeps it inside: it contains a payment card number." in r]
    assert any("Newly allowed" in r for r in rows) and not any("4111" in r for r in rows)
    assert card_link == f"{live_server.url}/compliance/ledger/entries/{card.seq}/"
    assert widths["right"] <= widths["viewport"] and widths["page"] <= widths["viewport"], widths
    assert widths["inner"] <= widths["holder"] and widths["width"] > 1000 and widths["top"] < 100, widths
    assert wide["right"] <= wide["viewport"] and wide["page"] <= wide["viewport"], wide
    assert wide["inner"] <= wide["holder"] and wide["width"] > 1400, wide
    assert "The replay was of an earlier draft" in warning and "Publish v2 without a replay" in warning
    assert warnings_after == [] and publish_buttons == ["Publish as v2"]
    assert PolicyVersion.objects.count() == 1  # nothing was published
