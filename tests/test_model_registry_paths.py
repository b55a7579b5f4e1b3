"""The model registry is not a file probe: only files inside the model directories (symlinks
resolved) can be registered, every other path gets the same answer whether it exists or not, and
the sha256 of a new file is read by the worker, not in the web request."""
import os
import re

import pytest
from django.conf import settings
from django.utils.html import escape

from appliance.audit.models import LedgerEntry
from appliance.routing.models import RegisteredModel
from appliance.routing.registry import model_choices, model_directories
from appliance.routing.tasks import hash_model_file
from tests.test_model_registry_views import registration, status_of, write_gguf

pytestmark = [pytest.mark.django_db]

REGISTER = "/administration/models/register/"


@pytest.fixture
def model_dir(settings, tmp_path):
    directory = tmp_path / "models"
    directory.mkdir()
    settings.ROUTING_MODEL_DIRS = [directory]
    return directory


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def refusal(path) -> str:
    return (f"“{path}” cannot be registered: give the full path of a readable GGUF file inside a model directory "
            f"({', '.join(map(str, model_directories()))}).")


def register_page(admin_client, path) -> str:
    """The page answering a registration of PATH, with PATH and the per-request CSRF token taken out."""
    response = admin_client.post(REGISTER, registration(gguf_path=path))
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(refusal(path)) in page
    page = page.replace(escape(str(path)), "PATH").replace(str(path), "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)


def test_it_answers_alike_for_secrets_missing_files_and_symlinks_out_of_the_model_directory(
        admin_client, model_dir, tmp_path):
    gguf_outside = write_gguf(tmp_path / "outside.gguf")
    (model_dir / "a-directory").mkdir()
    (model_dir / "shadow.gguf").symlink_to("/etc/shadow")
    (model_dir / "outside.gguf").symlink_to(gguf_outside)
    probes = [
        "/etc/shadow",
        settings.DATA_DIR / "audit_signing_key",
        "/etc/no-such-file",
        model_dir / "no-such-model.gguf",
        model_dir / "a-directory",
        model_dir / "shadow.gguf",
        model_dir / "outside.gguf",
        gguf_outside,
        model_dir / ".." / "outside.gguf",
        "models/helper.gguf",
    ]

    pages = {str(path): register_page(admin_client, path) for path in probes}

    assert len(set(pages.values())) == 1, "the answer tells some of these paths apart"
    assert not RegisteredModel.objects.exists()
    assert not LedgerEntry.objects.filter(action__startswith="model.").exists()


def test_it_registers_through_a_symlink_inside_the_model_directory_by_the_file_it_points_to(
        admin_client, model_dir):
    target = write_gguf(model_dir / "real.gguf")
    os.symlink(target, model_dir / "alias.gguf")

    admin_client.post(REGISTER, registration(gguf_path=model_dir / "alias.gguf"))

    assert RegisteredModel.objects.get().gguf_path == str(target.resolve())


def test_it_hashes_a_new_model_in_the_worker_and_starts_it_disabled(
        admin_client, model_dir, django_capture_on_commit_callbacks):
    path = write_gguf(model_dir / "tiny.gguf")

    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(REGISTER, registration(name="Tiny", gguf_path=path))

    model = RegisteredModel.objects.get()
    # The web request read the header only: no sha256 yet, and one task queued after commit.
    assert (model.sha256, model.hashing, model.enabled, len(queued)) == ("", True, False, 1)
    assert status_of(admin_client.get("/administration/models/").content.decode(), "Tiny") == "hashing…"
    assert not [choice for choice in model_choices() if choice.usable]

    hash_model_file(model.pk)  # the worker's task, run here

    model.refresh_from_db()
    page = admin_client.get("/administration/models/").content.decode()
    assert (model.hashing, model.enabled, len(model.sha256)) == (False, False, 64)
    assert f"<code>{model.sha256}</code>" in page
    assert f'<input type="hidden" name="sha256" value="{model.sha256}">' in page
    assert status_of(page, "Tiny") == "Tiny is disabled in the model registry."


def test_it_records_a_file_that_vanished_before_the_worker_hashed_it(admin_client, model_dir):
    path = write_gguf(model_dir / "tiny.gguf")
    admin_client.post(REGISTER, registration(name="Tiny", gguf_path=path))
    path.unlink()

    hash_model_file(RegisteredModel.objects.get().pk)

    model = RegisteredModel.objects.get()
    assert (model.hashing, model.sha256, model.enabled) == (False, "", False)
    assert LedgerEntry.objects.filter(action="model.hash_failed").count() == 1
    page = admin_client.get("/administration/models/").content.decode()
    assert "not read: the file could not be hashed; accept the file at this path to try again" in page
    assert 'name="sha256"' not in page
