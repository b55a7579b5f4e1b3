"""A password an administrator made is replaced at first sign-in, in headless Chromium: the
administrator creates a person on the people page with a one-time password; that person signs in
with it, is sent to the change page with the reason, chooses their own password and lands on their
home page. Screenshots: test-artifacts/password-*.png."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from appliance.accounts.models import PasswordChangeRequired
from appliance.audit.models import LedgerEntry
from tests.conftest import ARTIFACTS
from tests.test_browser_console import save_full_page
from tests.test_browser_home import browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OWN_PASSWORD = "amber lantern over the quay 7"


def choose_own_password(browser, old: str, new: str) -> None:  # noqa: F811
    """On the change page: the current password, then the new one twice; returns once the answer
    (the page again with errors, or the page after it) has replaced this one."""
    browser.find_element(By.ID, "id_old_password").send_keys(old)
    browser.find_element(By.ID, "id_new_password1").send_keys(new)
    browser.find_element(By.ID, "id_new_password2").send_keys(new)
    button = browser.find_element(By.ID, "change-password")
    button.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(button))


def test_a_person_replaces_the_one_time_password_at_first_sign_in(  # noqa: F811 (browser)
        browser, live_server, admin):
    sign_in(browser, live_server, admin.username)
    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "People").click()
    browser.find_element(By.ID, "id_username").send_keys("grace")
    browser.find_element(By.CSS_SELECTOR, "#field-roles input[value=analyst]").click()
    browser.find_element(By.ID, "create-person").click()
    one_time_password = browser.find_element(By.ID, "one-time-password").text

    sign_in(browser, live_server, "grace", one_time_password)

    assert browser.current_url == f"{live_server.url}/account/password/"
    assert browser.find_element(By.ID, "must-change").text == (
        "Your password was set by an administrator. Choose your own before you go on.")
    browser.get(f"{live_server.url}/analyst/ask/")  # any other page leads back here
    assert browser.current_url == f"{live_server.url}/account/password/"
    # A new password that breaks the rules is refused with the validators' words.
    choose_own_password(browser, one_time_password, "grace")
    assert [error.text for error in browser.find_elements(By.CSS_SELECTOR, "#error-new_password2")] == [
        "The password is too similar to the username.",
        "This password is too short. It must contain at least 12 characters.",
        "This password is too common."]
    save_full_page(browser, "password-first-sign-in.png")

    choose_own_password(browser, one_time_password, OWN_PASSWORD)

    assert browser.current_url == f"{live_server.url}/analyst/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Analyst home"
    assert browser.find_element(By.CSS_SELECTOR, "p.notice.success").text == (
        "Your password is changed. Sign in with the new one from now on.")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "password-changed.png"))
    assert not PasswordChangeRequired.objects.exists()
    entry = LedgerEntry.objects.get(action="password.changed")
    assert (entry.actor_name, entry.details) == ("grace", {"username": "grace", "was_required": True})

    # The new password is the one that signs in now, and nothing sends grace back.
    sign_in(browser, live_server, "grace", OWN_PASSWORD)
    assert browser.current_url == f"{live_server.url}/analyst/"
