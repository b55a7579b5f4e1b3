"""An analyst asks in headless Chromium; a real worker screens, retrieves, routes and answers with a
real GGUF model; the page shows the answer as it arrives, why it stayed inside, and its sources."""
from io import StringIO

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from appliance.answering.models import Exchange
from appliance.routing.registry import register_shipped_models
from appliance.runtime import release_store
from tests.conftest import ARTIFACTS, start_worker, stop_worker
from tests.test_browser_home import browser, sign_in  # noqa: F401 -- shared fixture

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HANDBOOK = "# Expenses\n\nTaxi receipts are reimbursed up to 80 euros per trip; claim them within 30 days.\n"


def test_an_analyst_asks_and_reads_the_answer_and_its_source(browser, live_server, analyst, tmp_path):  # noqa: F811
    register_shipped_models()
    (tmp_path / "expenses.md").write_text(HANDBOOK)
    call_command("ingest", str(tmp_path / "expenses.md"), collection="Handbook", classification="internal",
                 grant=["analysts"], stdout=StringIO())
    release_store()  # the worker process must be the store's single owner
    worker = start_worker(ANSWERING_MAX_TOKENS="48")
    try:
        sign_in(browser, live_server, analyst.username)
        browser.find_element(By.LINK_TEXT, "Ask").click()
        browser.find_element(By.XPATH, "//label[contains(., 'Handbook')]/input").click()
        browser.find_element(By.ID, "id_question").send_keys("Up to how much is a taxi receipt reimbursed?")
        browser.find_element(By.XPATH, "//form[@id='ask-form']//button[text()='Ask']").click()

        WebDriverWait(browser, 180, poll_frequency=0.5).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "article.exchange .status").text == "Answered"
        )
        answer = browser.find_element(By.CSS_SELECTOR, "article.exchange .answer-text").text
        reason = browser.find_element(By.CSS_SELECTOR, "article.exchange .route").text
        browser.find_element(By.CSS_SELECTOR, "button.source").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "passage").is_displayed())
        passage = browser.find_element(By.ID, "passage-text").text
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "analyst-asks.png"))
    finally:
        output = stop_worker(worker)

    assert answer and answer == Exchange.objects.get().answer
    assert reason == (
        "A collection asked about is classified internal and retrieved passages are labelled internal: answered "
        f"inside the perimeter by {Exchange.objects.get().route['model']}, whose domain fits best."
    )
    assert passage == "Taxi receipts are reimbursed up to 80 euros per trip; claim them within 30 days."
    assert "Traceback" not in output
