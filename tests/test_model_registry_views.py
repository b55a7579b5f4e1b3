import hashlib
import re
import shutil
import struct

import pytest
from django.conf import settings
from django.utils.html import escape

from appliance.audit.models import LedgerEntry
from appliance.routing.models import RegisteredModel
from appliance.routing.registry import model_choices, record_model_hash, register_model, register_shipped_models

pytestmark = [pytest.mark.django_db, pytest.mark.services]

SMOLLM2, GEMMA = "SmolLM2-135M-Instruct Q4_1", "Gemma 3 270M Q4_K_M"
REGISTRY = "/administration/models/"


@pytest.fixture(autouse=True)
def no_external_model(settings):
    settings.APPLIANCE_EXTERNAL_LLM_URL = ""


@pytest.fixture(autouse=True)
def tmp_path_is_a_model_directory(settings, tmp_path):
    settings.ROUTING_MODEL_DIRS = [*settings.ROUTING_MODEL_DIRS, tmp_path]


def allowed_error(path) -> str:
    """The one answer for a path that cannot be registered (outside, missing, unreadable)."""
    from appliance.routing.registry import model_directories

    return (f"“{path}” cannot be registered: give the full path of a readable GGUF file inside a model directory "
            f"({', '.join(map(str, model_directories()))}).")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def shipped(db):
    """The shipped specialists, registered as bootstrap does (Gemma 3 switched off)."""
    register_shipped_models()
    return {model.name: model for model in RegisteredModel.objects.all()}


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_gguf(path, file_type: int = 3):
    """A GGUF header with no tensors, declaring general.file_type (3 is Q4_1): enough to register."""
    key = b"general.file_type"
    path.write_bytes(b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, len(key)) + key + struct.pack("<II", 4, file_type))
    return path


def status_of(page: str, name: str) -> str:
    """The text of the status cell in NAME's row of the registry table."""
    row = re.search(rf'<tr data-model="{re.escape(name)}">(.*?)</tr>', page, re.S).group(1)
    return re.search(r'<td class="status"><span class="[^"]+">(.*?)</span></td>', row, re.S).group(1)


def registration(name="HR helper", gguf_path=None, context_size="2048", domain="HR policies and leave rules."):
    return {"name": name, "gguf_path": str(gguf_path or settings.ROUTING_SMOLLM2_GGUF), "context_size": context_size,
            "domain": domain}


def model_events():
    return list(LedgerEntry.objects.filter(action__startswith="model.").order_by("pk").values_list("action", "actor_name", "details"))


def test_it_lists_the_shipped_models_with_their_sha256_quantization_and_status(admin_client, shipped):
    page = admin_client.get(REGISTRY).content.decode()

    path = settings.ROUTING_SMOLLM2_GGUF.resolve()
    row = re.search(rf'<tr data-model="{SMOLLM2}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", row) == ["<strong>SmolLM2-135M-Instruct Q4_1</strong>",
                                                  '<span class="tag">Inside the perimeter</span>', "Q4_1", "2048", "yes"]
    assert f"<code>{path}</code>" in page
    assert f"<code>{sha256_of(path)}</code>" in page
    assert status_of(page, SMOLLM2) == "usable"
    assert status_of(page, GEMMA) == "Gemma 3 270M Q4_K_M is disabled in the model registry."
    assert "External general model: <strong>none configured</strong>." in page


def test_it_shows_the_external_model_without_its_key_or_credentials(admin_client, settings):
    settings.APPLIANCE_EXTERNAL_LLM_URL = "https://gateway:hunter2@llm.example.com:8443/v1"
    settings.APPLIANCE_EXTERNAL_LLM_MODEL = "gpt-large"
    settings.APPLIANCE_EXTERNAL_LLM_KEY = "sk-do-not-show"

    page = admin_client.get(REGISTRY).content.decode()

    assert "<dt>Endpoint</dt><dd>llm.example.com:8443 (https)</dd>" in page
    assert "<dt>Model</dt><dd>gpt-large</dd>" in page
    assert "sk-do-not-show" not in page and "hunter2" not in page and "none configured" not in page


def test_it_registers_a_gguf_file_disabled_and_the_admin_enables_it_once_the_worker_hashed_it(admin_client, admin):
    path = settings.ROUTING_SMOLLM2_GGUF.resolve()

    response = admin_client.post(f"{REGISTRY}register/", registration(context_size="4096"), follow=True)

    model = RegisteredModel.objects.get(name="HR helper")
    page = response.content.decode()
    assert response.redirect_chain == [(REGISTRY, 302)]
    assert ("Model “HR helper” registered (Q4_1), disabled: the worker is reading its sha256. Enable it once you "
            "have checked the sha256 shown here.") in page
    assert status_of(page, "HR helper") == "hashing…"
    assert (model.gguf_path, model.sha256, model.quantization, model.context_size, model.domain, model.perimeter,
            model.enabled, model.hashing) == (str(path), "", "Q4_1", 4096, "HR policies and leave rules.", "internal",
                                              False, True)
    entry = LedgerEntry.objects.get(action="model.registered")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.pk, "registeredmodel", str(model.pk))
    assert entry.details == {"name": "HR helper", "sha256": "", "quantization": "Q4_1", "enabled": False}
    assert not any(choice.usable for choice in model_choices())
    refused = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": ""}, follow=True)
    assert "Model “HR helper” cannot be enabled until the worker has read its sha256." in refused.content.decode()

    record_model_hash(model.pk)  # the worker's task, called directly

    sha256 = sha256_of(path)
    page = admin_client.get(REGISTRY).content.decode()
    assert f"<code>{sha256}</code>" in page and status_of(page, "HR helper") == "HR helper is disabled in the model registry."
    assert model_events()[-1] == ("model.hashed", "", {"name": "HR helper", "sha256": ["", sha256],
                                                      "quantization": ["Q4_1", "Q4_1"]})
    response = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": sha256}, follow=True)
    assert "Model “HR helper” enabled: questions may be routed to it." in response.content.decode()
    assert [choice.name for choice in model_choices() if choice.usable] == ["HR helper"]
    assert model_events()[-1] == ("model.enabled", "bob", {"name": "HR helper", "sha256": sha256})


@pytest.mark.parametrize(("case", "error"), [
    ("missing", None),
    ("directory", None),
    ("relative", None),
    ("text", "{path} is not a GGUF model file (it does not start with the bytes “GGUF”)."),
    ("truncated", "{path} starts like a GGUF file but its header cannot be read (a truncated or damaged file?)."),
])
def test_it_refuses_a_path_that_is_not_a_gguf_file_and_says_why(admin_client, tmp_path, case, error):
    path = {"missing": tmp_path / "absent.gguf", "directory": tmp_path, "text": tmp_path / "notes.gguf",
            "truncated": tmp_path / "cut.gguf", "relative": "models/helper.gguf"}[case]
    if case == "text":
        path.write_text("Meeting notes, not a model.\n")
    if case == "truncated":
        path.write_bytes(b"GGUF\x03\x00")

    response = admin_client.post(f"{REGISTRY}register/", registration(gguf_path=path))

    assert response.status_code == 200
    assert escape(error.format(path=path) if error else allowed_error(path)) in response.content.decode()
    assert not RegisteredModel.objects.exists() and model_events() == []


@pytest.mark.parametrize(("fields", "error"), [
    ({"name": SMOLLM2}, "A model named “SmolLM2-135M-Instruct Q4_1” is already registered."),
    ({"context_size": "100"}, "A context size of 100 tokens is out of range; use 256 to 32768 tokens."),
    ({"context_size": "131072"}, "A context size of 131072 tokens is out of range; use 256 to 32768 tokens."),
    ({"context_size": "lots"}, "Give the context size as a whole number of tokens."),
    ({"domain": "   "}, "Describe what the model is good at: routing compares each question with this description."),
])
def test_it_refuses_a_bad_registration_and_says_why(admin_client, shipped, tmp_path, fields, error):
    events = model_events()

    response = admin_client.post(f"{REGISTRY}register/", registration(gguf_path=write_gguf(tmp_path / "m.gguf"), **fields))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert RegisteredModel.objects.count() == len(shipped) and model_events() == events


def test_it_switches_models_on_and_off_and_routing_follows(admin_client, shipped):
    response = admin_client.post(f"{REGISTRY}{shipped[GEMMA].pk}/enable/", {"sha256": shipped[GEMMA].sha256}, follow=True)

    assert "Model “Gemma 3 270M Q4_K_M” enabled: questions may be routed to it." in response.content.decode()
    assert {choice.name: choice.usable for choice in model_choices()} == {GEMMA: True, SMOLLM2: True}

    response = admin_client.post(f"{REGISTRY}{shipped[SMOLLM2].pk}/disable/", follow=True)

    page = response.content.decode()
    assert ("Model “SmolLM2-135M-Instruct Q4_1” disabled: no question is routed to it until it is enabled again."
            in page)
    assert status_of(page, SMOLLM2) == "SmolLM2-135M-Instruct Q4_1 is disabled in the model registry."
    assert {choice.name: (choice.usable, choice.problem) for choice in model_choices()} == {
        GEMMA: (True, ""), SMOLLM2: (False, "SmolLM2-135M-Instruct Q4_1 is disabled in the model registry."),
    }
    assert model_events()[2:] == [("model.enabled", "bob", {"name": GEMMA, "sha256": shipped[GEMMA].sha256}),
                                  ("model.disabled", "bob", {"name": SMOLLM2})]


def test_it_warns_when_an_enabled_model_still_cannot_be_used(admin_client, tmp_path):
    path = write_gguf(tmp_path / "gone.gguf")
    model = register_model("Gone", path, "Anything.", enabled=False)
    path.unlink()

    response = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": model.sha256}, follow=True)

    assert "Model “Gone” enabled, but Gone cannot be used: its file is missing." in response.content.decode()
    assert status_of(response.content.decode(), "Gone") == "Gone cannot be used: its file is missing."


def test_it_edits_the_domain_and_context_size_and_records_old_and_new(admin_client, shipped):
    smollm2 = shipped[SMOLLM2]
    old_domain = smollm2.domain
    prefix = f"model-{smollm2.pk}"

    response = admin_client.post(f"{REGISTRY}{smollm2.pk}/edit/", {
        f"{prefix}-domain": "IT helpdesk questions.", f"{prefix}-context_size": "4096",
    }, follow=True)

    assert ("Model “SmolLM2-135M-Instruct Q4_1” saved: questions are routed with its new settings from now on."
            in response.content.decode())
    choice = next(choice for choice in model_choices() if choice.name == SMOLLM2)
    assert (choice.domain, choice.context_size) == ("IT helpdesk questions.", 4096)
    assert model_events()[-1] == ("model.changed", "bob", {
        "name": SMOLLM2, "domain": [old_domain, "IT helpdesk questions."], "context_size": [2048, 4096],
    })

    response = admin_client.post(f"{REGISTRY}{smollm2.pk}/edit/", {
        f"{prefix}-domain": "IT helpdesk questions.", f"{prefix}-context_size": "4096",
    }, follow=True)

    assert "Model “SmolLM2-135M-Instruct Q4_1” is unchanged." in response.content.decode()
    assert LedgerEntry.objects.filter(action="model.changed").count() == 1


def test_it_shows_an_edit_error_next_to_the_model_and_changes_nothing(admin_client, shipped):
    smollm2 = shipped[SMOLLM2]
    prefix = f"model-{smollm2.pk}"

    response = admin_client.post(f"{REGISTRY}{smollm2.pk}/edit/", {
        f"{prefix}-domain": "IT helpdesk questions.", f"{prefix}-context_size": "99999",
    })

    page = response.content.decode()
    assert response.status_code == 200
    assert "A context size of 99999 tokens is out of range; use 256 to 32768 tokens." in page
    assert "<details open>" in page
    smollm2.refresh_from_db()
    assert (smollm2.context_size, smollm2.domain) == (2048, shipped[SMOLLM2].domain)
    assert not LedgerEntry.objects.filter(action="model.changed").exists()


def test_it_refuses_a_replaced_file_until_an_admin_accepts_it_and_enables_its_new_sha256(admin_client, tmp_path):
    path = tmp_path / "smollm2-copy.gguf"
    shutil.copyfile(settings.ROUTING_SMOLLM2_GGUF, path)
    model = register_model("SmolLM2 copy", path, "Anything.")
    old_sha256 = model.sha256
    with path.open("ab") as file:
        file.write(b"\0")

    page = admin_client.get(REGISTRY).content.decode()

    # The page tells by the file's size and time (no hashing in a web request); routing by its sha256.
    assert status_of(page, "SmolLM2 copy") == "SmolLM2 copy cannot be used: its file changed since it was registered."
    mismatch = "SmolLM2 copy cannot be used: its file changed since it was registered (sha256 mismatch)."
    assert [(choice.usable, choice.problem) for choice in model_choices()] == [(False, mismatch)]

    response = admin_client.post(f"{REGISTRY}{model.pk}/rehash/", follow=True)

    page = response.content.decode()
    assert ("Model “SmolLM2 copy” disabled while the worker reads the sha256 of the file now at its path. Enable it "
            "once you have checked the new sha256.") in page
    assert status_of(page, "SmolLM2 copy") == "hashing…"
    stale = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": old_sha256}, follow=True)
    assert "Model “SmolLM2 copy” cannot be enabled until the worker has read its sha256." in stale.content.decode()

    record_model_hash(model.pk)

    new_sha256 = sha256_of(path)
    stale = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": old_sha256}, follow=True)
    assert ("Model “SmolLM2 copy” was not enabled: its sha256 is not the one shown to you; check it and enable it "
            "again.") in stale.content.decode()
    page = admin_client.post(f"{REGISTRY}{model.pk}/enable/", {"sha256": new_sha256}, follow=True).content.decode()
    assert status_of(page, "SmolLM2 copy") == "usable"
    assert f"<code>{new_sha256}</code>" in page
    assert [(choice.usable, choice.sha256) for choice in model_choices()] == [(True, new_sha256)]
    assert [(action, details.get("sha256")) for action, _, details in model_events()] == [
        ("model.registered", old_sha256), ("model.rehash_requested", old_sha256),
        ("model.hashed", [old_sha256, new_sha256]), ("model.enabled", new_sha256)]


@pytest.mark.parametrize("case", ["missing", "text"])
def test_it_refuses_to_accept_a_file_that_is_gone_or_not_gguf(admin_client, tmp_path, case):
    path = write_gguf(tmp_path / "tiny.gguf")
    model = register_model("Tiny", path, "Anything.")
    if case == "missing":
        path.unlink()
        error = allowed_error(path)
    else:
        path.write_text("Meeting notes, not a model.\n")
        error = f"{path} is not a GGUF model file (it does not start with the bytes “GGUF”)."

    response = admin_client.post(f"{REGISTRY}{model.pk}/rehash/", follow=True)

    assert escape(f"Model “Tiny” was not changed. {error}") in response.content.decode()
    assert RegisteredModel.objects.get().sha256 == model.sha256
    assert not LedgerEntry.objects.filter(action="model.rehash_requested").exists()


@pytest.mark.parametrize("action", ["enable", "disable", "edit", "rehash"])
def test_it_answers_404_for_an_unknown_model(admin_client, action):
    assert admin_client.post(f"{REGISTRY}999/{action}/").status_code == 404


ADMIN_ONLY = ["", "register/", "{model}/enable/", "{model}/disable/", "{model}/edit/", "{model}/rehash/"]


@pytest.fixture
def tiny(tmp_path):
    return register_model("Tiny", write_gguf(tmp_path / "tiny.gguf"), "Anything.")


@pytest.mark.parametrize("person", ["analyst", "officer", "outsider"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_it_lets_only_admins_manage_models(client, request, tiny, tmp_path, person, method, url):
    client.force_login(request.getfixturevalue(person))
    prefix = f"model-{tiny.pk}"
    data = {**registration(gguf_path=write_gguf(tmp_path / "other.gguf")),
            f"{prefix}-domain": "Changed.", f"{prefix}-context_size": "4096"}

    response = getattr(client, method)(REGISTRY + url.format(model=tiny.pk), data)

    assert response.status_code == 403
    assert list(RegisteredModel.objects.values_list("name", "enabled", "domain", "sha256")) == [
        ("Tiny", True, "Anything.", tiny.sha256)]
    assert [action for action, _, _ in model_events()] == ["model.registered"]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_it_sends_anonymous_visitors_to_the_login_page(client, tiny, method, url):
    path = REGISTRY + url.format(model=tiny.pk)

    response = getattr(client, method)(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
