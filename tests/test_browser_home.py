"""Each role signs in through the real login page in headless Chromium and lands on its home page.
Screenshots go to test-artifacts/ for people to look at."""
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import ARTIFACTS, PASSWORD, require_tool

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = require_tool("chromium")
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
        # The closed network refuses Chromium's background connections; don't make them.
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(require_tool("chromedriver")))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def sign_in(browser, live_server, username, password=PASSWORD):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_changes(f"{live_server.url}/login/"))


@pytest.mark.parametrize(
    ("person", "path", "heading"),
    [("analyst", "/analyst/", "Analyst home"), ("admin", "/administration/", "Administration"), ("officer", "/compliance/", "Compliance home")],
)
def test_it_takes_each_role_from_the_login_page_to_its_home(browser, live_server, request, person, path, heading):
    user = request.getfixturevalue(person)

    sign_in(browser, live_server, user.username)

    assert browser.current_url == f"{live_server.url}{path}"
    assert browser.find_element(By.TAG_NAME, "h1").text == heading
    assert user.username in browser.find_element(By.CLASS_NAME, "who").text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"home-{person}.png"))


def test_it_shows_a_wrong_password_on_the_login_page(browser, live_server, analyst):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.ID, "id_username").send_keys(analyst.username)
    browser.find_element(By.ID, "id_password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    assert browser.find_element(By.CSS_SELECTOR, "[role=alert]").text == (
        "Your username and password didn't match. Please try again."
    )
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "login-refused.png"))
