"""Step 1 of the answer path: screen a question before anything else happens.

    screener = QuestionScreener(scanner=..., embedder=...)
    screener.warm_up()                       # at worker start
    verdict = screener.run(question, policy) # Verdict(action, findings, policy_version, refusal)

The verdict is "block" (a policy violation: nothing is retrieved and no model is called),
"sensitive" (may be answered, but only inside the perimeter) or "clean". NeMo Guardrails runs the
input rails of guardrails/config/ in order (see rails.py); each rail is one of the detectors below:

1. length: longer than the policy's max_question_chars blocks at once.
2. hidden instructions: injection rules, the injection classifier and obfuscation (injection.py),
   over every reading of the normalised question (normalisation.py).
3. denied topics: similarity to the policy's examples (topics.py).
4. personal data: Presidio and the policy's patterns, judged by the policy (personal_data.py).
   It runs after a block by 2. or 3. too, so that the trace says where a blocked question's
   personal data is and the officer's pages can mask it; only an overlong question skips it.
   The verdict names the checks that ran (`checked`): a question not checked for personal data
   is not shown as "masked" anywhere (appliance/answering/masking.py: is_masked_fully).

A detector that fails blocks the question (fail closed) with a "screening" finding naming it; the
question text never reaches the log.
"""
import logging
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from appliance.errors import QuestionInvalid
from appliance.retrieval.embedding import Embedder
from guardrails.findings import BLOCK, SENSITIVE, Finding
from guardrails.injection import CLASSIFIER_PATH, InjectionClassifier, classify, match_rules, report_obfuscation
from guardrails.normalisation import NormalisedQuestion, normalise_question
from guardrails.personal_data import find_personal_data
from guardrails.pii import PiiScanner
from guardrails.policy import Policy
from guardrails.topics import TopicDetector
from guardrails.windows import Window, windows_of

logger = logging.getLogger(__name__)

CLEAN = "clean"
# The input rails' actions (guardrails/config/input.co) by the name a verdict's `checked` gives them.
CHECKS = {
    "check_question_length": "length",
    "check_hidden_instructions": "hidden instructions",
    "check_denied_topics": "denied topics",
    "check_personal_data": "personal data",
}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
WARM_UP_QUESTION = "Which supplier contracts signed by Jane Doe renew before March?"


@dataclass(frozen=True)
class Verdict:
    action: str                    # "block", "sensitive" or "clean"
    findings: tuple[Finding, ...]
    policy_version: int
    refusal: str = ""              # what the analyst is told when the action is "block"
    checked: tuple[str, ...] = ()  # the checks that ran, by name (CHECKS), in order

    @property
    def is_blocked(self) -> bool:
        return self.action == BLOCK

    @property
    def is_sensitive(self) -> bool:
        return self.action == SENSITIVE

    def as_dict(self) -> dict:
        """The form the screen command prints and the trace records."""
        return {
            "action": self.action,
            "findings": [finding.as_dict() for finding in self.findings],
            "policy_version": self.policy_version,
            "checked": list(self.checked),
        }


@dataclass
class ScreeningRequest:
    """One question being screened; the detectors share its normalised form and embeddings."""

    question: str
    policy: Policy
    embedder: Embedder = field(repr=False)

    @cached_property
    def normalised(self) -> NormalisedQuestion:
        return normalise_question(self.question)

    @cached_property
    def windows(self) -> list[Window]:
        return windows_of(self.normalised)

    @cached_property
    def vectors(self) -> np.ndarray:
        return self.embedder.embed([window.text for window in self.windows])


class QuestionScreener:
    def __init__(self, *, scanner: PiiScanner, embedder: Embedder, classifier_path: Path = CLASSIFIER_PATH):
        if not isinstance(scanner, PiiScanner):
            raise TypeError(f"scanner must be a PiiScanner, got {scanner!r}")
        if not isinstance(embedder, Embedder):
            raise TypeError(f"embedder must be an Embedder, got {embedder!r}")
        self.scanner = scanner
        self.embedder = embedder
        self.classifier = InjectionClassifier.load(classifier_path)
        self.topics = TopicDetector(embedder)
        self._rails = None

    def warm_up(self) -> None:
        """Load the models and the rails; screen one question so that first use is not slow."""
        from guardrails.policy import DEFAULT_RULES

        self.scanner.warm_up()
        self.embedder.warm_up()
        self.run(WARM_UP_QUESTION, Policy.from_rules(DEFAULT_RULES))

    def run(self, question: str, policy: Policy) -> Verdict:
        """The verdict on QUESTION under POLICY. Raises QuestionInvalid for a question that is not
        text or is empty."""
        return self._verdict(ScreeningRequest(screenable_text(question), policy, self.embedder))

    def run_under_each(self, questions: list[str], policies) -> list[list[Verdict]]:
        """For each of QUESTIONS, its verdicts under each of POLICIES, in order (the policy test bench
        compares a draft with the version in force). The normalised question, its windows and their
        embeddings do not depend on the policy: they are computed once, the windows of all QUESTIONS
        embedded in one call (batches of similar length), and shared. Raises QuestionInvalid."""
        requests = [ScreeningRequest(screenable_text(question), policies[0], self.embedder) for question in questions]
        texts = [[window.text for window in request.windows] for request in requests]
        vectors = self.embedder.embed([text for windows in texts for text in windows])
        start = 0
        for request, windows in zip(requests, texts):
            request.__dict__["vectors"] = vectors[start:start + len(windows)]  # the cached_property's value
            start += len(windows)
        verdicts = []
        for first in requests:
            verdicts.append([self._verdict(first)])
            for policy in policies[1:]:
                request = ScreeningRequest(first.question, policy, self.embedder)
                request.__dict__.update({name: first.__dict__[name] for name in ("normalised", "windows", "vectors")})
                verdicts[-1].append(self._verdict(request))
        return verdicts

    def _verdict(self, request: "ScreeningRequest") -> Verdict:
        question, policy = request.question, request.policy
        results, refused = self._input_rails().run(request)
        findings = tuple(Finding(**finding) for result in results.values() for finding in result["findings"])
        action = decide(findings)
        if refused and action != BLOCK:
            # NeMo refused although no detector asked for a block: a rails configuration we do not
            # understand. Fail closed, and say so in the trace.
            findings += (Finding("screening", "rails refused the question", 0, len(question), 1.0, BLOCK),)
            action = BLOCK
        checked = tuple(CHECKS[name] for name in CHECKS if name in results)
        return Verdict(action, findings, policy.version, policy.refusal_text if action == BLOCK else "", checked)

    def _input_rails(self):
        if self._rails is None:
            from guardrails.rails import InputRails

            detectors = {
                "check_question_length": check_question_length,
                "check_hidden_instructions": self.check_hidden_instructions,
                "check_denied_topics": self.check_denied_topics,
                "check_personal_data": self.check_personal_data,
            }
            self._rails = InputRails({name: failing_closed(CHECKS[name], detector) for name, detector in detectors.items()})
        return self._rails

    def check_hidden_instructions(self, request: ScreeningRequest) -> list[Finding]:
        normalised = request.normalised
        findings = match_rules(normalised) + report_obfuscation(normalised)
        findings += classify(normalised, request.windows, request.vectors, self.classifier, request.policy.injection_min_score)
        return findings

    def check_denied_topics(self, request: ScreeningRequest) -> list[Finding]:
        spans = [(window.start, window.end, window.reading) for window in request.windows]
        return self.topics.detect(request.policy, request.vectors, spans)

    def check_personal_data(self, request: ScreeningRequest) -> list[Finding]:
        return find_personal_data(request.normalised, self.scanner, request.policy)


def check_question_length(request: ScreeningRequest) -> list[Finding]:
    limit = request.policy.max_question_chars
    if len(request.question) <= limit:
        return []
    return [Finding("length", f"longer than {limit} characters", limit, len(request.question), 1.0, BLOCK)]


def decide(findings) -> str:
    """The strongest action any finding asks for."""
    actions = {finding.action for finding in findings}
    if BLOCK in actions:
        return BLOCK
    if SENSITIVE in actions:
        return SENSITIVE
    return CLEAN


def failing_closed(name: str, detector):
    """DETECTOR as a rail action: its findings and decision as JSON; a failure blocks the question."""

    def action(request: ScreeningRequest) -> dict:
        try:
            findings = detector(request)
        except Exception as error:  # noqa: BLE001 - any failure must block, not let the question through
            # The exception's message may quote the question; its type and the detector may be logged.
            logger.error("Screening detector %r failed with %s; the question is blocked", name, type(error).__name__)
            findings = [Finding("screening", f"{name} check failed", 0, len(request.question), 1.0, BLOCK)]
        return {"action": decide(findings), "findings": [finding.as_dict() for finding in findings]}

    return action


def screenable_text(question) -> str:
    """QUESTION as text every detector can read. Lone surrogates (which JSON allows and the
    tokenizers reject) become U+FFFD. Raises QuestionInvalid for non-text and blank questions."""
    if not isinstance(question, str):
        raise QuestionInvalid(f"A question must be text, not {type(question).__name__}.")
    question = LONE_SURROGATE.sub("\ufffd", question)
    if not question.strip():
        raise QuestionInvalid("The question is empty.")
    return question
