"""The models this process has loaded, one per registry entry as it is now: loading a GGUF takes
seconds, so each stays loaded for the life of the worker, or until its registry entry changes."""
import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from appliance.errors import ModelUnavailable
from appliance.retrieval.embedding import Embedder
from appliance.routing.egress import egress_gate
from appliance.routing.external import ExternalModel
from appliance.routing.generation import LocalModel, could_not_load
from appliance.routing.models import Perimeter
from appliance.routing.registry import ModelChoice, model_choices

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}
_domains: dict[tuple[str, str], np.ndarray] = {}


def model_for(choice: ModelChoice):
    """The loaded model for CHOICE (a LocalModel, or the ExternalModel client)."""
    # Everything the loaded model was made from is in the key: after an admin accepts a replaced
    # file (new sha256) or changes the context size, the next question loads the model again.
    # For the external model, its endpoint is what it was made from.
    where = settings.APPLIANCE_EXTERNAL_LLM_URL if choice.perimeter == Perimeter.EXTERNAL else choice.path
    key = (choice.name, choice.perimeter, where, choice.sha256, choice.context_size)
    with _lock:
        model = _models.get(key)
        if model is None:
            # The entry's earlier versions are never asked for again: drop them, so that their
            # weights are freed once the answers still streaming from them finish.
            for stale in [known for known in _models if known[:2] == key[:2]]:
                del _models[stale]
            model = _models[key] = make_model(choice)
    return model


def make_model(choice: ModelChoice):
    if choice.perimeter == Perimeter.EXTERNAL:
        return ExternalModel(
            url=settings.APPLIANCE_EXTERNAL_LLM_URL, model=choice.name, api_key=settings.APPLIANCE_EXTERNAL_LLM_KEY,
            name=choice.name, gate=egress_gate(),
        )
    try:
        model = LocalModel(Path(choice.path), context_size=choice.context_size, name=choice.name)
        model.warm_up()
    except ModelUnavailable:
        raise
    except Exception as error:
        # The file went missing, is no GGUF, or llama.cpp or its chat template broke on it: whatever
        # the cause, the answer path gets the same ModelUnavailable as for any model failure, so the
        # analyst is told plainly and the trace is written. The path is for the operator's log only.
        logger.warning("%s cannot be loaded from %s", choice.name, choice.path, exc_info=True)
        raise could_not_load(choice.name) from error
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
