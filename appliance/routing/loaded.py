"""The models this process has loaded, one per registry entry and file: loading a GGUF takes
seconds, so each stays loaded for the life of the worker."""
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from appliance.retrieval.embedding import Embedder
from appliance.routing.external import ExternalModel
from appliance.routing.generation import LocalModel
from appliance.routing.models import Perimeter
from appliance.routing.registry import ModelChoice, model_choices

_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}
_domains: dict[tuple[str, str], np.ndarray] = {}


def model_for(choice: ModelChoice):
    """The loaded model for CHOICE (a LocalModel, or the ExternalModel client)."""
    key = (choice.name, choice.sha256 or choice.perimeter)
    with _lock:
        model = _models.get(key)
        if model is None:
            model = _models[key] = make_model(choice)
    return model


def make_model(choice: ModelChoice):
    if choice.perimeter == Perimeter.EXTERNAL:
        return ExternalModel(
            url=settings.APPLIANCE_EXTERNAL_LLM_URL, model=choice.name, api_key=settings.APPLIANCE_EXTERNAL_LLM_KEY,
            name=choice.name,
        )
    model = LocalModel(Path(choice.path), context_size=choice.context_size, name=choice.name)
    model.warm_up()
    return model


def domain_vectors(embedder: Embedder) -> dict[str, np.ndarray]:
    """Each usable model's domain description, embedded (cached per description)."""
    vectors = {}
    for choice in model_choices():
        key = (choice.name, choice.domain)
        with _lock:
            vector = _domains.get(key)
        if vector is None:
            vector = embedder.embed([choice.domain])[0]
            with _lock:
                _domains[key] = vector
        vectors[choice.name] = vector
    return vectors
