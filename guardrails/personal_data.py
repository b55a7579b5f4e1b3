"""Personal data in a question, judged by the policy: Presidio's findings and the policy's own patterns.

Every reading is scanned (normalised, and any hidden, decoded, deciphered or spelled-out text: see
normalisation.py), so an e-mail address written with zero-width characters, inside base64, in
morse or as "jane [at] example [dot] com" still counts, and its span points at what was typed.
A finding's action comes from the policy: block, sensitive, or report for entity types the policy
does not list and for scores below the policy's minimum for that type (reported only when at
least half the minimum).

In a decoded reading (normalisation.DECODED_ORIGINS) half the policy's minimum score is enough.
A bare "4155550123" scores low because it may be an order number; the same digits in base64 or
spelled out word by word were hidden on purpose, and the words that would raise the score ("call",
"phone") are in the question, not in the payload Presidio reads.
"""
import logging

from guardrails.findings import BLOCK, REPORT, Finding
from guardrails.normalisation import DECODED_ORIGINS, NormalisedQuestion
from guardrails.pii import PiiScanner
from guardrails.policy import PATTERN_TIMEOUT_SECONDS, Policy

logger = logging.getLogger(__name__)


def find_personal_data(question: NormalisedQuestion, scanner: PiiScanner, policy: Policy) -> list[Finding]:
    readings = question.readings
    floor = min([policy.pii_min_score, *policy.entity_min_scores.values()]) / 2
    scanned = scanner.scan([reading.text for reading in readings], score_threshold=floor)
    findings = []
    for reading, reading_findings in zip(readings, scanned):
        for found in reading_findings:
            start, end = question.original_span(reading, found.start, found.end)
            action = policy.action_for_entity(found.entity_type) or REPORT
            if found.score < min_score(policy, found.entity_type, reading.origin):
                action = REPORT
            findings.append(Finding("pii", found.entity_type, start, end, round(found.score, 4), action, reading.origin))
    return deduplicated(findings + match_policy_patterns(question, policy))


def min_score(policy: Policy, entity_type: str, origin: str) -> float:
    """The policy's minimum score for ENTITY_TYPE, halved in decoded readings (see the module docstring)."""
    minimum = policy.min_score_for(entity_type)
    return minimum / 2 if origin in DECODED_ORIGINS else minimum


def match_policy_patterns(question: NormalisedQuestion, policy: Policy) -> list[Finding]:
    """One finding per pattern and reading that matches. A pattern that runs past
    PATTERN_TIMEOUT_SECONDS blocks the question: we cannot tell whether it would have matched."""
    findings = []
    for pattern in policy.patterns:
        for reading in question.readings:
            try:
                match = pattern.compiled.search(reading.text, timeout=PATTERN_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning("Policy pattern %r timed out; the question is blocked", pattern.name)
                findings.append(Finding("policy_pattern", f"{pattern.name} (timed out)", 0, len(question.original), 1.0, BLOCK, reading.origin))
                break
            if match is not None:
                start, end = question.original_span(reading, match.start(), match.end())
                findings.append(Finding("policy_pattern", pattern.name, start, end, 1.0, pattern.action, reading.origin))
                break
    return findings


def deduplicated(findings: list[Finding]) -> list[Finding]:
    """The same type at the same span found in two readings (the normalised one and a decoded copy
    of the same text) is one finding; the first reading wins."""
    seen, unique = set(), []
    for finding in findings:
        key = (finding.detector, finding.type, finding.start, finding.end)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
