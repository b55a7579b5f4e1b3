"""An administrator creates a collection and uploads a mixed batch in headless Chromium; a real
Celery worker indexes it while the page shows live progress. Screenshot: test-artifacts/."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait

from appliance.runtime import release_store
from ingest.models import Document
from tests import documents
from tests.conftest import ARTIFACTS, start_worker, stop_worker, wait_for
from tests.test_browser_home import browser, sign_in  # noqa: F401 -- shared fixture

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCH = {
    "handbook.md": documents.markdown_text(),
    "fees.docx": documents.fees_docx(),
    "policy.pdf": documents.pdf([["Remote work is allowed two days per week.", "Managers approve exceptions."]]),
    "locked.pdf": documents.encrypted_pdf(),
    "tool.exe.txt": documents.elf_executable(),
}


def test_it_lets_an_admin_upload_a_mixed_batch_and_watch_it_become_ready(browser, live_server, admin, analyst, tmp_path):
    for name, data in BATCH.items():
        (tmp_path / name).write_bytes(data)
    release_store()  # the worker process must be the store's single owner
    worker = start_worker()
    try:
        sign_in(browser, live_server, admin.username)
        browser.get(f"{live_server.url}/administration/collections/")
        browser.find_element(By.ID, "id_name").send_keys("Employee handbook")
        Select(browser.find_element(By.ID, "id_classification")).select_by_value("internal")
        browser.find_element(By.XPATH, "//label[contains(., 'analysts')]/input").click()
        browser.find_element(By.XPATH, "//button[text()='Create collection']").click()

        browser.find_element(By.ID, "id_files").send_keys("\n".join(str(tmp_path / name) for name in BATCH))
        browser.find_element(By.XPATH, "//form[@id='upload-form']//button[text()='Upload']").click()

        # The page polls the documents table until nothing is in progress any more.
        WebDriverWait(browser, 180, poll_frequency=1).until(
            lambda b: len(b.find_elements(By.CSS_SELECTOR, "#documents tr.status-ready")) == 3
            and not b.find_elements(By.CSS_SELECTOR, "#documents[data-poll]")
        )
        rows = {row.get_attribute("data-document"): row.find_element(By.CLASS_NAME, "status").text
                for row in browser.find_elements(By.CSS_SELECTOR, "#documents tbody tr")}
        ARTIFACTS.mkdir(exist_ok=True)
        browser.execute_script("document.getElementById('documents').scrollIntoView()")
        browser.save_screenshot(str(ARTIFACTS / "admin-upload-batch.png"))
    finally:
        output = stop_worker(worker)

    assert rows["handbook.md"] == rows["fees.docx"] == rows["policy.pdf"] == "Ready"
    assert rows["locked.pdf"].startswith("Failed: “locked.pdf” is password-protected")
    assert rows["tool.exe.txt"].startswith("Failed: “tool.exe.txt” is named as plain text but its content is a program")
    assert Document.objects.get(filename="policy.pdf").chunks.get().page == 1
    assert "Traceback" not in output


def test_it_lets_an_admin_upload_a_zip_and_watch_its_documents_become_ready(browser, live_server, admin, analyst, tmp_path):
    from ingest.collections import create_collection
    from tests.test_ingest_archives import build_zip

    collection = create_collection("Handbook", "internal", [], False, admin)
    bundle = build_zip({
        "handbook/hr/leave.md": "# Leave\n\nAnnual leave is 25 days a year.\n",
        "handbook/it/laptops.txt": "Laptops are collected from the service desk on the first day.\n",
        "handbook/it/logo.png": documents.png(), "handbook/.DS_Store": b"\x00",
        "../escape.md": "# Out\n",
    })
    (tmp_path / "handbook.zip").write_bytes(bundle)
    release_store()
    worker = start_worker()
    try:
        sign_in(browser, live_server, admin.username)
        browser.get(f"{live_server.url}/administration/collections/{collection.pk}/")
        browser.find_element(By.ID, "id_files").send_keys(str(tmp_path / "handbook.zip"))
        browser.find_element(By.XPATH, "//form[@id='upload-form']//button[text()='Upload']").click()

        WebDriverWait(browser, 180, poll_frequency=1).until(
            lambda b: len(b.find_elements(By.CSS_SELECTOR, "#documents tr.status-ready")) == 2
            and not b.find_elements(By.CSS_SELECTOR, "#documents[data-poll]")
        )
        rows = {row.get_attribute("data-document"): row.find_element(By.CLASS_NAME, "status").text
                for row in browser.find_elements(By.CSS_SELECTOR, "#documents tbody tr")}
        report = browser.find_element(By.CSS_SELECTOR, "#documents .archive-report").text
        ARTIFACTS.mkdir(exist_ok=True)
        browser.execute_script("document.getElementById('documents').scrollIntoView()")
        browser.save_screenshot(str(ARTIFACTS / "admin-zip-upload.png"))
    finally:
        output = stop_worker(worker)

    assert rows == {"handbook/hr/leave.md": "Ready", "handbook/it/laptops.txt": "Ready"}
    assert report.splitlines() == [
        "handbook.zip unpacked: 2 documents added, 0 replaced, 0 unchanged.",
        "Skipped: 1 hidden file; 1 file of types the appliance does not accept (.png).",
        "“../escape.md” climbs out of the archive (“..”); not unpacked.",
    ]
    assert "Traceback" not in output


def test_it_lets_an_admin_page_filter_and_search_a_collection_of_3000_documents(browser, live_server, admin, analyst):
    from ingest.collections import create_collection
    from tests.test_collection_views import add_documents

    collection = create_collection("File share", "internal", [], False, admin)
    add_documents(collection, ["ready"] * 1800 + ["failed"] * 300 + ["queued"] * 900)
    sign_in(browser, live_server, admin.username)
    url = f"{live_server.url}/administration/collections/{collection.pk}/"

    browser.get(url)
    first = rows_on_screen(browser)
    summary = text_of(browser, "#documents .progress-summary")
    filters = text_of(browser, "#documents .status-filters")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "admin-collection-3000-documents.png"))

    follow_link(browser, "Failed")
    follow_link(browser, "Next →")
    failed_page_2 = text_of(browser, "#documents .listing-count")
    reasons = browser.execute_script(
        "return [...document.querySelectorAll('#documents td.status')].map((cell) => cell.innerText.trim())")
    browser.execute_script("document.querySelector('#documents .status-filters').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "admin-collection-failed-page-2.png"))
    browser.execute_script("document.querySelector('#documents nav.pages').scrollIntoView(false)")
    browser.save_screenshot(str(ARTIFACTS / "admin-collection-failed-page-2-pages.png"))

    # While documents wait, the page polls the rows on screen, and keeps to its filter and page.
    browser.get(f"{url}?status=waiting&page=2")
    shown = rows_on_screen(browser)
    Document.objects.filter(filename=shown[0]).update(status="ready")
    wait_for(lambda: shown[0] not in rows_on_screen(browser), seconds=20)
    after_poll = (rows_on_screen(browser), text_of(browser, "#documents .listing-count"))

    browser.find_element(By.ID, "document-search").send_keys("report-0042")
    browser.find_element(By.XPATH, "//form[@role='search']//button[text()='Search']").click()
    wait_for(lambda: "q=" in browser.current_url, seconds=10)
    found = rows_on_screen(browser)

    assert len(first) == 50 and first[0] == "share/report-2999.md"
    assert summary == "1,800 of 3,000 documents ready · 300 failed · 90 chunks/s · less than a minute left"
    assert filters.split("\n") == ["All 3,000", "Waiting 900", "Indexing 0", "Ready 1,800", "Failed 300"]
    assert failed_page_2 == "Failed documents 51–100 of 300"
    assert len(reasons) == 50
    assert reasons[0] == "Failed: “report-2049.md” is empty (0 bytes); there is nothing to index."
    assert after_poll == ([f"share/report-{n:04}.md" for n in range(2948, 2898, -1)], "Waiting documents 51–100 of 899")
    assert browser.current_url == f"{url}?status=waiting&q=report-0042"
    assert found == []  # report-0042 is ready, not waiting: the search keeps the filter


# The page replaces #documents at every poll (1.5 s) while documents wait: read it and click in it
# in one script, never through an element found a moment before, which may be gone.
def rows_on_screen(browser) -> list[str]:  # noqa: F811
    return browser.execute_script(
        "return [...document.querySelectorAll('#documents tbody tr')].map((row) => row.dataset.document)")


def text_of(browser, selector: str) -> str:  # noqa: F811
    return browser.execute_script("return document.querySelector(arguments[0]).innerText.trim()", selector)


def follow_link(browser, text: str) -> None:  # noqa: F811
    """Click the link of #documents whose text starts with TEXT, and wait for the page it opens."""
    before = browser.current_url
    browser.execute_script("[...document.querySelectorAll('#documents a')]"
                           ".find((link) => link.innerText.trim().startsWith(arguments[0])).click()", text)
    wait_for(lambda: browser.current_url != before, seconds=10)
