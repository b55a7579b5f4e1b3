"""Step 3 of the answer path: which model may answer, and why.

The rule, as a compliance officer would state it:

1. A question's sensitivity is the highest of: what screening found in the question (personal data
   the policy calls sensitive counts as confidential), the classification of the collections asked
   about, the labels of the passages retrieved, and the conversation's taint (a conversation that
   once touched sensitive data stays sensitive).
2. Only public data may leave the perimeter. Anything above public is answered by a model whose
   registry entry says `internal`, or not at all.
3. For public data the external general model is used when one is configured: it is the
   strongest model available and nothing protected goes to it. Otherwise, and always for
   protected data, the internal specialist whose domain description is closest in meaning to the
   question (cosine similarity of MiniLM embeddings) answers; ties go to the first by name.
4. No allowed model usable (disabled, file missing or changed) -> refuse, saying why. Never fall
   back to a model outside the perimeter.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from appliance.routing.models import Perimeter
from appliance.routing.registry import ModelChoice
from guardrails.sensitivity import max_sensitivity

LOCAL_SPECIALIST, EXTERNAL_GENERAL, REFUSE = "local-specialist", "external-general", "refuse"

SOURCE_WORDING = {
    "question": "the question contains personal data",
    "collections": "a collection asked about is classified {level}",
    "chunks": "retrieved passages are labelled {level}",
    "conversation": "this conversation touched {level} data before",
}


@dataclass(frozen=True)
class Route:
    name: str                     # LOCAL_SPECIALIST, EXTERNAL_GENERAL or REFUSE
    model: ModelChoice | None
    sensitivity: str              # the combined label
    reason: str                   # for the analyst and the trace
    sources: Mapping[str, str] = field(default_factory=dict)  # what each source contributed

    @property
    def perimeter(self) -> str | None:
        return self.model.perimeter if self.model else None

    def as_dict(self) -> dict:
        return {"name": self.name, "model": self.model.name if self.model else None, "perimeter": self.perimeter,
                "sensitivity": self.sensitivity, "reason": self.reason}


def choose_route(
    sources: Mapping[str, str], question_vector: np.ndarray, choices: Sequence[ModelChoice],
    domain_vectors: Mapping[str, np.ndarray],
) -> Route:
    """SOURCES maps "question", "collections", "chunks", "conversation" to sensitivity levels."""
    sensitivity = max_sensitivity(*sources.values())
    why = protected_because(sources)
    stays_inside = sensitivity != "public"
    internal = [c for c in choices if c.perimeter == Perimeter.INTERNAL and c.usable]
    external = [c for c in choices if c.perimeter == Perimeter.EXTERNAL and c.usable]
    if not stays_inside and external:
        return Route(EXTERNAL_GENERAL, external[0], sensitivity,
                     f"Only public data is involved: answered by the external model {external[0].name}.", dict(sources))
    if not internal:
        problems = " ".join(c.problem for c in choices if c.perimeter == Perimeter.INTERNAL and c.problem)
        if stays_inside:
            reason = f"Refused: {why}, so only a model inside the perimeter may answer, and none is available."
        else:
            reason = "Refused: no model is available to answer."
        return Route(REFUSE, None, sensitivity, f"{reason} {problems}".strip(), dict(sources))
    best = closest_domain(question_vector, internal, domain_vectors)
    if stays_inside:
        reason = f"{why[0].upper()}{why[1:]}: answered inside the perimeter by {best.name}, whose domain fits best."
    else:
        reason = f"Only public data is involved; no external model is configured: answered by {best.name}."
    return Route(LOCAL_SPECIALIST, best, sensitivity, reason, dict(sources))


def protected_because(sources: Mapping[str, str]) -> str:
    """Why the data may not leave, in words: each source above public, joined with "and"."""
    parts = [SOURCE_WORDING[source].format(level=level) for source, level in sources.items() if level != "public"]
    return " and ".join(parts) if parts else "only public data is involved"


def closest_domain(
    question_vector: np.ndarray, models: Sequence[ModelChoice], domain_vectors: Mapping[str, np.ndarray]
) -> ModelChoice:
    ranked = sorted(models, key=lambda m: (-float(question_vector @ domain_vectors[m.name]), m.name))
    return ranked[0]
