"""Why a question was blocked, in words the analyst can act on.

    reasons_for(verdict)   -> ["it contains a payment card number", ...]
    blocked_summary(verdict) -> "Stopped by policy version 3 because it contains a payment card number."
    blocked_text(verdict)  -> the summary, then the policy's refusal text

The chat, the API and `manage.py ask` all show these. The analyst learns which kind of problem the
question has and which policy version judged it, never a detector's score, never the words or
digits that matched (a card number is not echoed back: the screen exists so that it goes no
further) and never an internal code such as US_SSN. The compliance officer reads the full findings
(detector, type, span, score) in the trace.
"""
import re

from appliance.plain_words import entity_name
from guardrails.findings import BLOCK, Finding

# How text hidden in a question was written, for a finding in a reading other than the question
# as typed: "it contains a US social security number (encoded in base64)".
# One entry per reading normalisation.ORIGINS makes; an unknown one reads "written as <origin>".
READING_WORDS = {
    "hidden tag text": "hidden in invisible characters",
    "base64": "encoded in base64",
    "base32": "encoded in base32",
    "base85": "encoded in base85",
    "ascii85": "encoded in ascii85",
    "hex": "encoded in hex",
    "uuencode": "uuencoded",
    "quoted-printable": "encoded as quoted-printable",
    "binary": "written in binary",
    "url-encoded": "URL-encoded",
    "rot13": "encoded in rot13",
    "atbash": "encoded in atbash",
    "morse": "written in Morse code",
    "braille": "written in Braille",
    "leetspeak": "written in leetspeak",
    "spelled out": "spelled out in words",
}
AS_TYPED = "normalised"

# One entry per normalisation.KINDS, for an obfuscation the screen blocks (today: tag characters).
OBFUSCATION_WORDS = {
    "tag characters": "it hides text in invisible characters",
    "zero-width characters": "it hides invisible characters inside its words",
    "bidi controls": "it reorders its text with invisible direction marks",
    "homoglyphs": "it disguises its words with look-alike letters",
    "encoded payload": "it hides text in an encoding",
    "encoded personal data": "it hides personal data in an encoding",
    "variation selectors": "it hides text in invisible characters",
    "spelled out": "it spells out numbers in words",
}
FAIL_CLOSED = "a screening check could not run, and the policy holds questions back when that happens (fail closed)"
INSTRUCTION = "it reads like an instruction to the assistant"
HARMFUL = "it asks for a way to cause serious harm (weapons, drugs, poisons, malware or break-ins)"
TIMED_OUT = " (timed out)"


def reasons_for(verdict) -> list[str]:
    """Why VERDICT blocks, one plain reason per kind of problem, in the order the screen found them;
    [] when it does not block."""
    blocking = [finding for finding in verdict.findings if finding.action == BLOCK]
    readings: dict[str, list[str]] = {}
    for finding in blocking:
        readings.setdefault(reason_for(finding), []).append(finding.reading)
    return [reason if AS_TYPED in found_in else f"{reason} ({reading_words(found_in[0])})"
            for reason, found_in in readings.items()]


def reason_for(finding: Finding) -> str:
    """One blocking finding in plain words, without its score or the text it matched."""
    if finding.detector == "pii":
        return f"it contains {entity_name(finding.type)}"
    if finding.detector in ("injection_rules", "injection_classifier"):
        return INSTRUCTION
    if finding.detector == "harmful_request":
        return HARMFUL
    if finding.detector == "denied_topic":
        return f"it matches the denied topic '{finding.type}'"
    if finding.detector == "policy_pattern":
        return pattern_reason(finding.type)
    if finding.detector == "length":
        return f"it is longer than the {length_limit(finding):,} characters allowed"
    if finding.detector == "obfuscation":
        return OBFUSCATION_WORDS.get(finding.type, "it disguises its words with unusual characters")
    if finding.detector == "screening":
        return FAIL_CLOSED
    return "it breaks the question policy"


def pattern_reason(name: str) -> str:
    if name.endswith(TIMED_OUT):
        name = name.removesuffix(TIMED_OUT)
        return (f"the organisation pattern '{name}' took too long to check, and the policy holds questions back "
                "when that happens (fail closed)")
    return f"it matches the organisation pattern '{name}'"


def length_limit(finding: Finding) -> int:
    """The limit a length finding names ("longer than 4000 characters"); its span starts there too."""
    digits = re.search(r"\d+", finding.type)
    return int(digits.group()) if digits else finding.start


def reading_words(reading: str) -> str:
    return READING_WORDS.get(reading, f"written as {reading}")


def blocked_summary(verdict) -> str:
    """One sentence: the policy version and every reason, e.g. "Stopped by policy version 3 because it
    contains a payment card number and it reads like an instruction to the assistant."."""
    reasons = reasons_for(verdict) or ["it breaks the question policy"]
    return f"Stopped by policy version {verdict.policy_version} because {joined(reasons)}."


def blocked_text(verdict) -> str:
    """What the analyst reads for a blocked question: the summary, then the policy's refusal text."""
    return "\n".join(part for part in (blocked_summary(verdict), verdict.refusal) if part)


def joined(parts: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
