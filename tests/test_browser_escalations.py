"""Escalations in headless Chromium: officer A escalates a queue item to officer B with a note
(after the form refused it without an assignee and kept the note); B sees "Inbox (1)", opens it,
resolves the answer with a note, and the ledger shows both steps. Then an administrator creates a
third officer in a new team on the people page, A escalates to the team, and the new officer
resolves it for the whole team. Screenshots: test-artifacts/officer-escalation-*.png."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from appliance.accounts.roles import Role
from appliance.audit.models import LedgerEntry
from tests.conftest import ARTIFACTS, PASSWORD, make_person
from tests.test_browser_console import save_full_page
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)
from tests.test_browser_password import choose_own_password
from tests.test_review_queue import record_answer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def nav_inbox(browser) -> str:  # noqa: F811
    return browser.find_element(By.ID, "nav-inbox").text


def shot(browser, name: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


def escalate_first_queue_item(browser, assignee_label: str, note: str) -> None:  # noqa: F811
    browser.find_element(By.CSS_SELECTOR, "tr[data-seq] a").click()
    browser.find_element(By.ID, "id_note").send_keys(note)
    Select(browser.find_element(By.ID, "id_assignee")).select_by_visible_text(assignee_label)
    browser.find_element(By.CSS_SELECTOR, "#review-form button[value=escalated]").click()


def resolve_from_the_inbox(browser, note: str) -> None:  # noqa: F811
    browser.find_element(By.ID, "nav-inbox").click()
    browser.find_element(By.CSS_SELECTOR, "#inbox tr[data-seq] a").click()
    browser.find_element(By.CSS_SELECTOR, ".resolve-form textarea").send_keys(note)
    browser.find_element(By.CSS_SELECTOR, ".resolve-form button[type=submit]").click()


def test_an_officer_escalates_to_a_colleague_who_resolves_it(  # noqa: F811 (browser)
        browser, live_server, analyst, officer, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    make_person("erin", Role.COMPLIANCE)
    record_answer("t-sensitive", analyst, "What is Maria Keller's grade?", sensitivity="confidential",
                  route="local-specialist", model="SmolLM2")
    sign_in(browser, live_server, officer.username)

    # Refused without an assignee: the note stays, the reason sits beside the field.
    browser.find_element(By.CSS_SELECTOR, "tr[data-seq] a").click()
    browser.find_element(By.ID, "id_note").send_keys("Grade question: HR must confirm who may see this.")
    browser.find_element(By.CSS_SELECTOR, "#review-form button[value=escalated]").click()
    assert browser.find_element(By.ID, "assignee-error").text == (
        "Choose the officer or team to escalate this answer to: an escalation must reach someone.")
    assert browser.find_element(By.ID, "id_note").get_attribute("value") == (
        "Grade question: HR must confirm who may see this.")
    shot(browser, "officer-escalation-refused.png")

    Select(browser.find_element(By.ID, "id_assignee")).select_by_visible_text("erin")
    browser.find_element(By.CSS_SELECTOR, "#review-form button[value=escalated]").click()
    assert browser.find_element(By.CSS_SELECTOR, ".notice.success").text == "Entry #1 escalated."
    assert nav_inbox(browser) == "Inbox"  # nothing for the officer who escalated

    sign_in(browser, live_server, "erin")
    assert nav_inbox(browser) == "Inbox (1)"
    browser.find_element(By.ID, "nav-inbox").click()
    assert [row.get_attribute("data-seq") for row in browser.find_elements(By.CSS_SELECTOR, "#inbox tr[data-seq]")] \
        == ["1"]
    shot(browser, "officer-escalation-inbox.png")
    browser.find_element(By.CSS_SELECTOR, "#inbox tr[data-seq] a").click()
    assert browser.find_element(By.ID, "question").text == "What is Maria Keller's grade?"
    assert browser.find_element(By.CSS_SELECTOR, ".resolve-form h3").text == "Close this escalation"
    assert "Escalated to you by charlie." in browser.find_element(By.CSS_SELECTOR, ".resolve-form").text
    assert browser.find_element(By.ID, "back-to-inbox").text == "← Inbox"
    shot(browser, "officer-escalation-entry.png")
    browser.find_element(By.CSS_SELECTOR, ".resolve-form textarea").send_keys("HR confirmed: grade stays internal.")
    browser.find_element(By.CSS_SELECTOR, ".resolve-form button[type=submit]").click()

    # Opened from the inbox: closing it goes back there, since nothing else is escalated to erin.
    assert browser.find_element(By.CSS_SELECTOR, ".notice.success").text == (
        "Escalation of entry #1 resolved. Nothing else is escalated to you.")
    assert nav_inbox(browser) == "Inbox"
    assert browser.find_element(By.ID, "inbox-empty").text == "Nothing is escalated to you or your teams."
    browser.get(f"{live_server.url}/compliance/ledger/entries/1/")
    assert browser.find_element(By.ID, "decided").text.startswith("Resolved by erin on ")

    browser.get(f"{live_server.url}/compliance/ledger/?action=review.")
    events = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "tr[data-seq] td:nth-child(4) > span.code")]
    assert events == ["review.resolved", "review.escalated"]
    save_full_page(browser, "officer-escalation-ledger.png")


def test_an_officer_escalates_to_a_team_made_on_the_people_page(  # noqa: F811 (browser)
        browser, live_server, analyst, admin, officer, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    erin = make_person("erin", Role.COMPLIANCE)
    record_answer("t-refused", analyst, "Summarise the salary review", outcome="refused", sensitivity="restricted",
                  route="refuse", model=None)

    sign_in(browser, live_server, admin.username)
    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "People").click()
    browser.find_element(By.ID, "id_username").send_keys("frank")
    browser.find_element(By.ID, "id_password1").send_keys(PASSWORD)
    browser.find_element(By.ID, "id_password2").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#field-roles input[value=compliance]").click()
    browser.find_element(By.ID, "id_new_team").send_keys("Fraud review")
    browser.find_element(By.ID, "create-person").click()
    assert browser.find_element(By.ID, "person-created").text.startswith("frank can sign in now")
    erin_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-username="erin"]')
    erin_row.find_element(By.XPATH, ".//label[contains(., 'Fraud review')]/input").click()
    erin_row.find_element(By.XPATH, ".//button[text()='Save teams']").click()
    # The page that confirmed frank has a success notice too: wait for the next page first.
    WebDriverWait(browser, 10).until(expected_conditions.staleness_of(erin_row))
    assert browser.find_element(By.CSS_SELECTOR, "p.notice.success").text == "erin: joined Fraud review."
    save_full_page(browser, "officer-escalation-people.png")

    sign_in(browser, live_server, officer.username)
    escalate_first_queue_item(browser, "Team: Fraud review (2 other officers)", "Salary summary asked: team decision.")
    assert browser.find_element(By.CSS_SELECTOR, ".notice.success").text == "Entry #1 escalated."

    sign_in(browser, live_server, "erin")
    assert nav_inbox(browser) == "Inbox (1)"
    sign_in(browser, live_server, "frank")
    # frank's password was set by the administrator: he chooses his own first.
    assert browser.current_url == f"{live_server.url}/account/password/"
    choose_own_password(browser, PASSWORD, "amber lantern over the quay 7")
    assert nav_inbox(browser) == "Inbox (1)"
    browser.find_element(By.ID, "nav-inbox").click()
    shot(browser, "officer-escalation-team-inbox.png")
    browser.find_element(By.CSS_SELECTOR, "#inbox tr[data-seq] a").click()
    assert browser.find_element(By.CSS_SELECTOR, ".resolve-form h3").text == "Close this escalation"
    assert "Escalated to your team Fraud review by charlie." in browser.find_element(By.CSS_SELECTOR, ".resolve-form").text
    shot(browser, "officer-escalation-team-entry.png")
    browser.find_element(By.CSS_SELECTOR, ".resolve-form textarea").send_keys("Refusal was right; no action.")
    browser.find_element(By.CSS_SELECTOR, ".resolve-form button[type=submit]").click()
    assert browser.find_element(By.CSS_SELECTOR, ".notice.success").text == (
        "Escalation of entry #1 resolved. Nothing else is escalated to you.")

    sign_in(browser, live_server, erin.username)
    assert nav_inbox(browser) == "Inbox"
    escalation = LedgerEntry.objects.get(action="review.escalated")
    assert escalation.details == {"seq": 1, "assignee_team": "Fraud review", "officers": ["erin", "frank"]}
    assert LedgerEntry.objects.get(action="review.resolved").actor_name == "frank"
    assert [entry.action for entry in LedgerEntry.objects.filter(
        action__in=["team.created", "person.created", "teams.changed"]).order_by("seq")] == [
        "team.created", "person.created", "teams.changed"]
