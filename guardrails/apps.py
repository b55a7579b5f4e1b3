from django.apps import AppConfig


class GuardrailsConfig(AppConfig):
    """Question screening: versioned policy, Presidio PII, injection and topic detectors, NeMo rails."""

    name = "guardrails"
