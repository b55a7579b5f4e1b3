"""A compliance officer reviews an answer in the compliance console in headless Chromium: verifies
the chain, filters, opens the evidence, marks it reviewed with a note, and exports CSV; then opens
the public key page from the navigation and downloads the key."""
import csv
import io

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from appliance.audit.checkpoints import public_key_bytes
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import record_event
from tests.conftest import ARTIFACTS, wait_for
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)
from tests.test_ledger_views import record_trace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def save_full_page(browser, name: str) -> None:  # noqa: F811
    """A screenshot of the whole page, not just the window."""
    width, height = browser.get_window_size()["width"], browser.get_window_size()["height"]
    browser.set_window_size(width, browser.execute_script("return document.documentElement.scrollHeight") + 140)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))
    browser.set_window_size(width, height)


def filter_by_perimeter(browser, perimeter: str) -> None:  # noqa: F811
    Select(browser.find_element(By.NAME, "perimeter")).select_by_value(perimeter)
    browser.find_element(By.CSS_SELECTOR, "#ledger-filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains(f"perimeter={perimeter}"))


def test_an_officer_reviews_an_answer_and_exports_the_ledger(  # noqa: F811 (browser)
        browser, live_server, analyst, admin, officer, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    record_event("collection.created", admin, ("collection", 1), name="Handbook", classification="internal")
    record_trace("t-internal", analyst)
    record_trace("t-external", None, collection="Public", perimeter="external", route="external-general",
                 model="gpt-ext", entities=())
    record_trace("t-blocked", analyst, outcome="blocked", collection="HR cases", entities=("EMAIL_ADDRESS",))
    downloads = tmp_path / "downloads"
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    sign_in(browser, live_server, officer.username)

    browser.find_element(By.LINK_TEXT, "Audit ledger").click()
    browser.find_element(By.ID, "verify-now").click()
    notice = browser.find_element(By.CSS_SELECTOR, ".notice.success").text
    assert notice == "Intact: 5 entries, chain and 0 signed checkpoint(s) verified."
    badge = browser.find_element(By.ID, "chain-status").text
    assert badge.startswith("Chain intact at ") and badge.endswith(" UTC: 5 entries")  # 4 events and the first look
    filter_by_perimeter(browser, "internal")
    assert [row.get_attribute("data-seq") for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-seq]")] == ["2"]
    save_full_page(browser, "officer-console.png")

    browser.find_element(By.CSS_SELECTOR, 'tr[data-seq="2"] a').click()
    assert browser.find_element(By.ID, "question").text == "When does the office open?"
    browser.find_element(By.ID, "id_note").send_keys("Hours confirmed with facilities; no personal data shown.")
    browser.find_element(By.CSS_SELECTOR, "#review-form button[value=reviewed]").click()

    assert browser.find_element(By.CSS_SELECTOR, ".notice.success").text == "Entry #2 marked reviewed."
    history = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#reviews tbody td")]
    assert history[1:] == ["charlie", "reviewed", "Hours confirmed with facilities; no personal data shown."]
    assert browser.find_element(By.CSS_SELECTOR, "h1 .review").text == "reviewed"
    save_full_page(browser, "officer-reviews.png")

    browser.find_element(By.LINK_TEXT, "← Audit ledger").click()
    filter_by_perimeter(browser, "internal")
    browser.find_element(By.LINK_TEXT, "Export CSV").click()

    exported = wait_for(lambda: [path for path in downloads.glob("ledger-*.csv")], seconds=20)[0]
    table = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [(row["seq"], row["perimeter"], row["question"]) for row in table] == [
        ("2", "internal", "When does the office open?")]
    assert LedgerEntry.objects.get(action="ledger.exported").details == {
        "format": "csv", "filters": {"perimeter": "internal"}, "entries": 1, "sealed_fields": True,
        "channel": "console"}


def test_an_officer_finds_the_public_key_from_the_navigation(  # noqa: F811 (browser)
        browser, live_server, officer, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    downloads = tmp_path / "downloads"
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    sign_in(browser, live_server, officer.username)

    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Public key").click()

    assert browser.find_element(By.TAG_NAME, "h1").text == "The ledger's public key"
    assert browser.find_element(By.ID, "public-key").text == public_key_bytes().hex()
    assert browser.find_element(By.ID, "verify-command").text == (
        "python3 tools/verify_evidence.py evidence-entry-N.json --public-key audit-public-key.txt")
    save_full_page(browser, "officer-public-key.png")
    browser.find_element(By.ID, "download-key").click()
    downloaded = wait_for(lambda: [path for path in downloads.glob("audit-public-key.txt")], seconds=20)[0]
    assert downloaded.read_text() == public_key_bytes().hex() + "\n"
