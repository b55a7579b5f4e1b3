"""The model registry: registering GGUF files, switching them on and off, and which models can be
used right now. Every change writes its audit event in the same transaction."""
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
    """A file that cannot be registered as a model: missing, not a regular file, or not a GGUF model."""

    code = "model_file_rejected"
    status = 422


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
    """Hash the file, read its quantization and register it, with its audit event. Raises
    ModelFileRejected if PATH is not a GGUF file we can read."""
    path = Path(path)
    quantization = read_quantization(path)
    sha256 = file_sha256(path)
    with transaction.atomic():
        model = RegisteredModel.objects.create(
            name=name, gguf_path=str(path), sha256=sha256, quantization=quantization,
            context_size=context_size, domain=domain, perimeter=Perimeter.INTERNAL, enabled=enabled,
        )
        record_event("model.registered", actor, model, name=name, sha256=sha256, quantization=quantization,
                     enabled=enabled)
    return model


def read_quantization(path: Path) -> str:
    """The quantization the GGUF file at PATH declares (see gguf_quantization). Raises
    ModelFileRejected, naming PATH, if it is missing, not a regular file, or not a GGUF file we can read."""
    if not path.exists():
        raise ModelFileRejected(f"There is no file at {path}.", "model_file_missing")
    if not path.is_file():
        raise ModelFileRejected(f"{path} is not a regular file.", "model_file_not_regular")
    try:
        check_gguf_file(path)
    except ValueError:
        raise ModelFileRejected(
            f"{path} is not a GGUF model file (it does not start with the bytes “GGUF”).", "model_file_not_gguf",
        ) from None
    except OSError as error:
        raise ModelFileRejected(f"{path} cannot be read: {error.strerror}.", "model_file_unreadable") from None
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


def rehash_model(model: RegisteredModel, actor) -> RegisteredModel:
    """Accept the file now at the model's path: read its sha256 and quantization again (after an
    admin replaced the file). Raises ModelFileRejected, changing nothing, if the file is missing or
    not a GGUF file."""
    path = Path(model.gguf_path)
    quantization = read_quantization(path)
    sha256 = file_sha256(path)
    with transaction.atomic():
        current = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        RegisteredModel.objects.filter(pk=model.pk).update(sha256=sha256, quantization=quantization)
        record_event("model.rehashed", actor, model, name=model.name, sha256=[current.sha256, sha256],
                     quantization=[current.quantization, quantization])
    model.sha256, model.quantization = sha256, quantization
    return model


def set_model_enabled(model: RegisteredModel, enabled: bool, actor=None) -> None:
    with transaction.atomic():
        RegisteredModel.objects.filter(pk=model.pk).update(enabled=enabled)
        record_event("model.enabled" if enabled else "model.disabled", actor, model, name=model.name)
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


def internal_choice(model: RegisteredModel) -> ModelChoice:
    problem = ""
    path = Path(model.gguf_path)
    if not model.enabled:
        problem = f"{model.name} is disabled in the model registry."
    elif not path.is_file():
        problem = f"{model.name} cannot be used: its file {path} is missing."
    elif cached_sha256(path) != model.sha256:
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
