"""The egress gate: the last check before any byte leaves the perimeter.

The router decides from labels (the screen's verdict, collection classifications, chunk labels, the
conversation's taint). Labels can be wrong: a public document may quote an e-mail address in
base64, a chunk may be labelled before a policy change, and a conversation can carry an address in
two halves, each clean on its own. So ExternalModel (external.py) hands the exact messages it is
about to send to EgressGate.check() first, and sends nothing when the gate finds personal data the
policy in force calls sensitive or blocks, in any reading (normalised, decoded, deciphered,
spelled out: guardrails/normalisation.py) of:

- each message, system prompt, quotes and question together as they will be sent;
- the conversation's questions that went out before and this one, joined by line breaks, and
  glued end to start (so "jane.doe@" then "example.com" is an address again).

The gate raises EgressRefused, and the answer path (appliance/answering/pipeline.py) answers inside
the perimeter instead (route_inside), or refuses when no internal model can; the route's reason
in the trace says what the gate found: entity types, readings and parts, never the values.

The gate reuses the screener's PII scanner (one per process: appliance.runtime); it is built once
per process by egress_gate().
"""
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from appliance.errors import ModelUnavailable
from appliance.routing.decision import LOCAL_SPECIALIST, REFUSE, Route, closest_domain
from appliance.routing.models import Perimeter
from appliance.routing.registry import ModelChoice
from guardrails.findings import BLOCK, SENSITIVE
from guardrails.normalisation import normalise_question
from guardrails.personal_data import find_personal_data
from guardrails.pii import PiiScanner
from guardrails.policy import Policy

STOPPED_SENSITIVITY = "confidential"  # what the request turned out to hold, for the route and the taint


@dataclass(frozen=True)
class Leak:
    """Personal data the gate found in a request: never the value, only what and where."""

    entity: str   # entity type or policy pattern name
    reading: str  # the reading it was found in ("normalised", "base64", "spelled out", ...)
    part: str     # "the system prompt", "the prompt", "the conversation so far"

    def __str__(self) -> str:
        where = self.part if self.reading == "normalised" else f"the {self.reading} reading of {self.part}"
        return f"{self.entity} (in {where})"


class EgressRefused(ModelUnavailable):
    """The gate stopped a request: nothing was sent. Permanent: sending it again would leak again."""

    code = "egress_refused"

    def __init__(self, model_name: str, leaks: Sequence[Leak]):
        self.model_name = model_name
        self.leaks = tuple(leaks)
        super().__init__(
            f"The request to {model_name} was stopped at the perimeter: it held personal data.",
            permanent=True,
        )

    @property
    def why(self) -> str:
        """What the gate found, for the trace and the officer: "US_SSN (in the base64 reading of the prompt)"."""
        return " and ".join(dict.fromkeys(str(leak) for leak in self.leaks))


class EgressGate:
    """Scans requests about to leave. One gate may be shared by threads (the scanner locks itself)."""

    def __init__(self, scanner: PiiScanner, policy: Callable[[], Policy] | None = None):
        if not isinstance(scanner, PiiScanner):
            raise TypeError(f"scanner must be a PiiScanner, got {scanner!r}")
        self.scanner = scanner
        self._policy = policy
        # The system prompt is the same for every request: what the gate found in it is kept per
        # policy version (a dozen milliseconds of Presidio saved per request).
        self._system_leaks: dict[tuple[int, str], list[Leak]] = {}
        self._lock = threading.Lock()

    def check(self, model_name: str, messages: Sequence[Mapping[str, str]], conversation: Sequence[str] = ()) -> None:
        """Returns when MESSAGES ({"role", "content"} as sent) may leave; raises EgressRefused naming
        what was found otherwise. CONVERSATION: the questions of this conversation that went out
        before, then this one."""
        leaks = self.leaks(messages, conversation)
        if leaks:
            raise EgressRefused(model_name, leaks)

    def leaks(self, messages: Sequence[Mapping[str, str]], conversation: Sequence[str] = ()) -> list[Leak]:
        policy = self.policy()
        parts = [("the system prompt" if m["role"] == "system" else "the prompt", m["content"]) for m in messages]
        if len(conversation) > 1:
            parts.append(("the conversation so far", "\n".join(conversation)))
            parts.append(("the conversation so far", "".join(conversation)))
        leaks = []
        for part, text in parts:
            leaks += self._system_prompt_leaks(policy, text) if part == "the system prompt" else self._leaks(policy, part, text)
        return list(dict.fromkeys(leaks))

    def _leaks(self, policy: Policy, part: str, text: str) -> list[Leak]:
        findings = find_personal_data(normalise_question(text), self.scanner, policy)
        return [Leak(f.type, f.reading, part) for f in findings if f.action in (SENSITIVE, BLOCK)]

    def _system_prompt_leaks(self, policy: Policy, text: str) -> list[Leak]:
        key = (policy.version, text)
        with self._lock:
            known = self._system_leaks.get(key)
        if known is None:
            known = self._leaks(policy, "the system prompt", text)
            with self._lock:
                if len(self._system_leaks) >= 16:
                    self._system_leaks.clear()
                self._system_leaks[key] = known
        return known

    def policy(self) -> Policy:
        if self._policy is not None:
            return self._policy()
        from guardrails.publishing import current_policy

        return current_policy()


_lock = threading.Lock()
_gate: EgressGate | None = None


def egress_gate() -> EgressGate:
    """The process's gate, on the screener's PII scanner (loaded once per process)."""
    global _gate
    from appliance.runtime import question_screener

    scanner = question_screener().scanner
    with _lock:
        if _gate is None:
            _gate = EgressGate(scanner)
        return _gate


def route_inside(
    stopped: Route, refused: EgressRefused, question_vector: np.ndarray, choices: Sequence[ModelChoice],
    domain_vectors: Mapping[str, np.ndarray],
) -> Route:
    """The route after the gate stopped STOPPED: the internal model whose domain fits best, or
    REFUSE when none is usable. The reason says what the gate found; sources gain "egress"."""
    sources = {**stopped.sources, "egress": STOPPED_SENSITIVITY}
    because = f"The egress gate stopped the request to {refused.model_name}: it held {refused.why}"
    internal = [choice for choice in choices if choice.perimeter == Perimeter.INTERNAL and choice.usable]
    if not internal:
        reason = f"Refused: {because[0].lower()}{because[1:]}, and no model inside the perimeter is available."
        return Route(REFUSE, None, STOPPED_SENSITIVITY, reason, sources)
    best = closest_domain(question_vector, internal, domain_vectors)
    reason = f"{because}. Answered inside the perimeter by {best.name}, whose domain fits best."
    return Route(LOCAL_SPECIALIST, best, STOPPED_SENSITIVITY, reason, sources)
