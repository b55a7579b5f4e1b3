"""An administrator creates a collection and uploads a mixed batch in headless Chromium; a real
Celery worker indexes it while the page shows live progress. Screenshot: test-artifacts/."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait

from appliance.runtime import release_store
from ingest.models import Document
from tests import documents
from tests.conftest import ARTIFACTS, start_worker, stop_worker
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
