"""The model registry: registering GGUF files, switching them on and off, and which models can be
used right now. Every change writes its audit event in the same transaction.

The registry is not a way to probe the server's files: only files inside the configured model
directories (ROUTING_MODEL_DIRS, symlinks resolved) can be registered, and any other path, present
or not, readable or not, gets the same answer. An admin's registration starts disabled; the worker
reads the file's sha256 (hashing gigabytes has no place in a web request), and the admin enables
the model once they have seen it."""
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from appliance.audit.recording import record_event
from appliance.errors import ApplianceError
from appliance.routing.generation import check_gguf_file, file_sha256, gguf_quantization
from appliance.routing.models import Perimeter, RegisteredModel

logger = logging.getLogger(__name__)

# What the shipped specialists are for; routing compares each question with these sentences.
SHIPPED_DOMAINS = {
    "SmolLM2-135M-Instruct Q4_1": (
        "Short, factual answers about internal policies, procedures, HR handbooks, IT and office rules, "
        "and everyday business documents."
    ),
    "Gemma 3 270M Q4_K_M": (
        "Summaries and explanations of contracts, legal, financial, clinical and regulatory documents, "
        "and answers that combine several passages."
    ),
}
EXTERNAL_DOMAIN = "General questions of any kind, over public information."

# Shipped models registered but switched off, and why. The Gemma 3 270M file in the PyPI packages
# is the base model, not the instruction-tuned one: asked a question it mostly repeats the prompt
# (seen in tests/test_browser_chat.py's screenshot). An admin can switch it on; replacing it with
# gemma-3-270m-it is the better fix.
SHIPPED_DISABLED = {"Gemma 3 270M Q4_K_M": "base model, not instruction-tuned: it repeats prompts instead of answering"}


class ModelFileRejected(ApplianceError):
    """A file that cannot be registered as a model: outside the model directories, missing,
    unreadable, or not a GGUF model."""

    code = "model_file_rejected"
    status = 422


class ModelNotReady(ApplianceError):
    """A model that cannot be enabled yet: its file is being hashed, or its sha256 is not the one
    the admin was shown."""

    code = "model_not_ready"
    status = 409


@dataclass(frozen=True)
class ModelChoice:
    """A model as routing sees it: where it runs, what it is for, and whether it can be used."""

    name: str
    perimeter: str
    domain: str
    usable: bool
    problem: str = ""       # why it cannot be used, said to the analyst when it matters
    sha256: str = ""
    quantization: str = ""
    context_size: int = 2048
    path: str = ""


def register_model(
    name: str, path: Path, domain: str, actor=None, *, context_size: int = 2048, enabled: bool = True,
) -> RegisteredModel:
    """Hash the file here and now, read its quantization and register it, with its audit event
    (bootstrap and commands; the web asks the worker to hash: request_registration). Raises
    ModelFileRejected if PATH is not a GGUF file we can read inside a model directory."""
    path = model_file(path)
    quantization = read_quantization(path)
    sha256, stamp = file_sha256(path), file_stamp(path)
    with transaction.atomic():
        model = RegisteredModel.objects.create(
            name=name, gguf_path=str(path), sha256=sha256, quantization=quantization, file_stamp=stamp,
            context_size=context_size, domain=domain, perimeter=Perimeter.INTERNAL, enabled=enabled,
        )
        record_event("model.registered", actor, model, name=name, sha256=sha256, quantization=quantization,
                     enabled=enabled)
    return model


def request_registration(name: str, path: Path, domain: str, actor, *, context_size: int = 2048) -> RegisteredModel:
    """Register the file disabled, with its audit event, and have the worker hash it (after commit,
    so that the worker finds the row). The admin enables it once its sha256 is shown. Raises
    ModelFileRejected if PATH is not a GGUF file we can read inside a model directory."""
    path = model_file(path)
    quantization = read_quantization(path)
    with transaction.atomic():
        model = RegisteredModel.objects.create(
            name=name, gguf_path=str(path), sha256="", quantization=quantization, hashing=True,
            context_size=context_size, domain=domain, perimeter=Perimeter.INTERNAL, enabled=False,
        )
        record_event("model.registered", actor, model, name=name, sha256="", quantization=quantization,
                     enabled=False)
        transaction.on_commit(lambda: queue_hashing(model.pk))
    return model


def queue_hashing(model_id: int) -> None:
    from appliance.routing.tasks import hash_model_file

    hash_model_file.delay(model_id)


def record_model_hash(model_id: int) -> RegisteredModel | None:
    """The worker's part: read the sha256 of the model's file and record it, with its audit event
    ("model.hashed", the old and new sha256). A file gone, unreadable or moved out of the model
    directories since is recorded as "model.hash_failed" (sha256 left as it was), so the page stops
    saying "hashing". Returns the model, or None when it was deleted or is not waiting for a hash."""
    model = RegisteredModel.objects.filter(pk=model_id, hashing=True).first()
    if model is None:
        return None
    try:
        path = model_file(model.gguf_path)
        sha256, stamp, quantization = file_sha256(path), file_stamp(path), read_quantization(path)
    except (ModelFileRejected, OSError) as error:
        logger.warning("model file %s could not be hashed: %s", model.gguf_path, error)
        with transaction.atomic():
            RegisteredModel.objects.filter(pk=model.pk).update(hashing=False)
            record_event("model.hash_failed", None, model, name=model.name)
        model.hashing = False
        return model
    with transaction.atomic():
        current = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        RegisteredModel.objects.filter(pk=model.pk).update(
            sha256=sha256, quantization=quantization, file_stamp=stamp, hashing=False)
        record_event("model.hashed", None, model, name=model.name, sha256=[current.sha256, sha256],
                     quantization=[current.quantization, quantization])
    model.sha256, model.quantization, model.file_stamp, model.hashing = sha256, quantization, stamp, False
    return model


def model_directories() -> list[Path]:
    """The directories model files may be registered from, symlinks resolved."""
    return [Path(directory).resolve() for directory in settings.ROUTING_MODEL_DIRS]


def model_file(path) -> Path:
    """PATH, symlinks resolved, once it is a readable regular file inside a model directory.
    Raises ModelFileRejected with the same words whatever is wrong (outside, missing, a directory,
    unreadable): the admin page must not tell which server files exist."""
    path = Path(path)
    rejected = ModelFileRejected(
        f"“{path}” cannot be registered: give the full path of a readable GGUF file inside a model "
        f"directory ({', '.join(map(str, model_directories()))}).",
        "model_file_not_allowed",
    )
    if not path.is_absolute():
        raise rejected
    try:
        resolved = path.resolve(strict=True)
        if not any(resolved.is_relative_to(directory) for directory in model_directories()):
            raise rejected
        if not resolved.is_file():
            raise rejected
        with resolved.open("rb"):
            pass
    except OSError:
        raise rejected from None
    return resolved


def file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def read_quantization(path: Path) -> str:
    """The quantization the GGUF file at PATH declares (see gguf_quantization). Raises
    ModelFileRejected, naming PATH, if it is not a GGUF file we can read. Call it on a path
    model_file() returned: its messages may say what a file is."""
    try:
        check_gguf_file(path)
    except ValueError:
        raise ModelFileRejected(
            f"{path} is not a GGUF model file (it does not start with the bytes “GGUF”).", "model_file_not_gguf",
        ) from None
    except OSError:
        raise ModelFileRejected(f"{path} cannot be read.", "model_file_unreadable") from None
    try:
        return gguf_quantization(path)
    except ValueError:
        raise ModelFileRejected(
            f"{path} starts like a GGUF file but its header cannot be read (a truncated or damaged file?).",
            "model_file_not_gguf",
        ) from None


def update_model(model: RegisteredModel, actor, *, domain: str, context_size: int) -> dict[str, list]:
    """Change what routing reads from the entry; returns the changes, {field: [old, new]} (empty:
    nothing changed, nothing recorded)."""
    with transaction.atomic():
        # Read the row under lock, so that the old values recorded are the ones being replaced.
        current = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        wanted = {"domain": domain, "context_size": context_size}
        changes = {field: [getattr(current, field), value] for field, value in wanted.items()
                   if getattr(current, field) != value}
        if changes:
            RegisteredModel.objects.filter(pk=model.pk).update(**wanted)
            record_event("model.changed", actor, model, name=model.name, **changes)
    model.domain, model.context_size = domain, context_size
    return changes


def request_rehash(model: RegisteredModel, actor) -> RegisteredModel:
    """Accept the file now at the model's path (after an admin replaced it): the model is disabled
    and the worker reads its sha256 and quantization again; the admin enables it once they have
    seen the new sha256. Raises ModelFileRejected, changing nothing, if the file is not a GGUF file
    we can read inside a model directory."""
    read_quantization(model_file(model.gguf_path))
    with transaction.atomic():
        RegisteredModel.objects.filter(pk=model.pk).update(hashing=True, enabled=False)
        record_event("model.rehash_requested", actor, model, name=model.name, sha256=model.sha256,
                     was_enabled=model.enabled)
        transaction.on_commit(lambda: queue_hashing(model.pk))
    model.hashing, model.enabled = True, False
    return model


def set_model_enabled(model: RegisteredModel, enabled: bool, actor=None, *, sha256: str | None = None) -> None:
    """Switch the model on or off. Enabling needs SHA256, the hash the admin was shown: raises
    ModelNotReady while the file is being hashed, or when its sha256 is not that one."""
    with transaction.atomic():
        current = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        if enabled and (current.hashing or not current.sha256):
            raise ModelNotReady(f"Model “{model.name}” cannot be enabled until the worker has read its sha256.")
        if enabled and sha256 != current.sha256:
            raise ModelNotReady(
                f"Model “{model.name}” was not enabled: its sha256 is not the one shown to you; check it and enable it again.")
        RegisteredModel.objects.filter(pk=model.pk).update(enabled=enabled)
        record_event("model.enabled" if enabled else "model.disabled", actor, model, name=model.name,
                     **({"sha256": current.sha256} if enabled else {}))
    model.enabled = enabled


def register_shipped_models(actor=None) -> list[RegisteredModel]:
    """Register the shipped GGUF specialists that are not registered yet (bootstrap runs this)."""
    from appliance.routing.shipped import shipped_models

    registered = []
    for shipped in shipped_models():
        if shipped.path.is_file() and not RegisteredModel.objects.filter(name=shipped.name).exists():
            registered.append(register_model(
                shipped.name, shipped.path, SHIPPED_DOMAINS[shipped.name], actor,
                enabled=shipped.name not in SHIPPED_DISABLED,
            ))
    return registered


def model_choices() -> list[ModelChoice]:
    """Every registered model and the configured external one, each saying whether it is usable:
    enabled, its file present and still the file that was registered (same sha256)."""
    choices = [internal_choice(model) for model in RegisteredModel.objects.all()]
    external = external_choice()
    return choices + ([external] if external else [])


def internal_choice(model: RegisteredModel, *, verify_sha256: bool = True) -> ModelChoice:
    """MODEL as routing sees it. With VERIFY_SHA256 (the worker, before each use) the file's
    content is checked; without (the web page), only its size and modification time."""
    problem = ""
    path = Path(model.gguf_path)
    # Problems reach the analyst (a refusal's reason): they never name a server path.
    if model.hashing:
        problem = f"{model.name} is waiting for the worker to read its sha256."
    elif not model.enabled:
        problem = f"{model.name} is disabled in the model registry."
    elif not path.is_file():
        problem = f"{model.name} cannot be used: its file is missing."
    elif not is_in_model_directories(path):
        problem = f"{model.name} cannot be used: its file is no longer inside a model directory."
    elif not verify_sha256:
        if model.file_stamp and stamp_of(path) != model.file_stamp:
            problem = f"{model.name} cannot be used: its file changed since it was registered."
    elif (sha256 := readable_sha256(path)) is None:
        problem = f"{model.name} cannot be used: its file cannot be read."
    elif sha256 != model.sha256:
        problem = f"{model.name} cannot be used: its file changed since it was registered (sha256 mismatch)."
    return ModelChoice(
        model.name, model.perimeter, model.domain, not problem, problem, model.sha256, model.quantization,
        model.context_size, model.gguf_path,
    )


def external_choice() -> ModelChoice | None:
    if not settings.APPLIANCE_EXTERNAL_LLM_URL:
        return None
    return ModelChoice(
        settings.APPLIANCE_EXTERNAL_LLM_MODEL, Perimeter.EXTERNAL, EXTERNAL_DOMAIN, True, context_size=8192,
    )


def is_in_model_directories(path: Path) -> bool:
    """Whether PATH, symlinks resolved, is still inside a model directory (a symlink swapped in
    after registration could point anywhere)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(directory) for directory in model_directories())


def stamp_of(path: Path) -> str:
    try:
        return file_stamp(path)
    except OSError:
        return ""


def readable_sha256(path: Path) -> str | None:
    """The file's sha256 (cached_sha256), or None when it cannot be read; why goes to the log."""
    try:
        return cached_sha256(path)
    except OSError as error:
        logger.warning("model file %s cannot be read: %s", path, error.strerror)
        return None


_hashes: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def cached_sha256(path: Path) -> str:
    """The file's sha256, computed again only when its size or modification time changed (hashing a
    250 MB model takes about a second; routing asks on every question)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        known = _hashes.get(key)
    if known is None:
        known = file_sha256(path)
        with _hash_lock:
            _hashes[key] = known
    return known
