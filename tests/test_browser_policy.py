"""A compliance officer edits the question policy in headless Chromium and publishes a new version."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from guardrails.publishing import current_policy, current_policy_version
from tests.conftest import ARTIFACTS
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_officer_publishes_a_stricter_policy(browser, live_server, officer):  # noqa: F811
    current_policy_version()
    sign_in(browser, live_server, officer.username)

    browser.find_element(By.LINK_TEXT, "Question policy").click()
    Select(browser.find_element(By.NAME, "action_PERSON")).select_by_value("block")
    browser.find_element(By.NAME, "patterns").send_keys("Employee number | sensitive | EMP-\\d{6}")
    browser.find_element(By.NAME, "denied_topics").send_keys("Mergers: Which companies are we about to acquire?")
    browser.find_element(By.NAME, "change_note").send_keys("Names block; employee numbers stay inside")
    browser.find_element(By.CSS_SELECTOR, "#policy-form button[type=submit]").click()
    # No replay of this draft: the page says so, and publishes only when the officer confirms.
    warning = browser.find_element(By.ID, "publish-warning").text
    assert current_policy().version == 1
    ARTIFACTS.mkdir(exist_ok=True)
    browser.find_element(By.ID, "publish-warning").location_once_scrolled_into_view
    browser.save_screenshot(str(ARTIFACTS / "officer-policy-publish-confirm.png"))
    browser.find_element(By.ID, "publish-anyway").click()

    notice = browser.find_element(By.CSS_SELECTOR, ".notice.success").text
    assert notice == "Published policy v2. Questions are screened under it from now on."
    assert browser.find_element(By.CSS_SELECTOR, "h1 .badge").text == "v2"
    policy = current_policy()
    assert policy.entity_actions["PERSON"] == "block"
    assert [p.name for p in policy.patterns] == ["Employee number"]
    assert [t.name for t in policy.denied_topics] == ["Mergers"]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "officer-policy-published.png"))
    assert "There is no replay of this draft" in warning
