"""Why a question was blocked, in words the analyst can act on.

    reasons_for(verdict)   -> ["it contains a payment card number", ...]
    blocked_summary(verdict) -> "Stopped by policy version 3 because it contains a payment card number."
    advice_for(verdict)    -> "Ask again without the payment card number."
    blocked_text(verdict)  -> the summary and the advice, then the policy's refusal text

The chat, the API and `manage.py ask` all show these. The analyst learns which kind of problem the
question has and which policy version judged it, never a detector's score, never the words or
digits that matched (a card number is not echoed back: the screen exists so that it goes no
further) and never an internal code such as US_SSN. Each family of rules has its own reason (a request to send
data outside is not "an instruction to the assistant"), and the analyst is told what to do next
("Ask again without the payment card number."). The compliance officer reads the full findings
(detector, type, span, score) in the trace.
"""
import re

from appliance.plain_words import UNNAMED_ENTITY, entity_name, entity_words
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
# One entry per rule name of injection.RULES (tests/test_reasons.py checks that none is missing); the
# classifier, which has no rule name, and an unknown rule read INSTRUCTION.
INJECTION_RULE_WORDS = {
    "override earlier instructions": "it tells the assistant to ignore its instructions",
    "new instructions": "it gives the assistant new instructions",
    "reveal the system prompt": "it asks for the assistant's own instructions or settings",
    "persona switch": "it asks the assistant to act without its rules",
    "fake role header": "it pretends to be a message from the system rather than a question",
    "lift redaction": "it asks to switch off the masking of personal data or the screening",
    "withheld content": "it asks for what the assistant withholds or for other people's questions",
    "bulk verbatim dump": "it asks for whole documents word for word",
    "exfiltration": "it asks to send data outside, to an e-mail address or a web address",
    "hypothetical bypass": "it asks the assistant to pretend that the rules do not apply",
    "decode and follow": "it asks the assistant to decode hidden text and follow it",
}
FAIL_CLOSED = "a screening check could not run, and the policy holds questions back when that happens (fail closed)"
INSTRUCTION = "it reads like an instruction to the assistant"
HARMFUL = "it asks for a way to cause serious harm (weapons, drugs, poisons, malware or break-ins)"
TIMED_OUT = " (timed out)"


def reasons_for(verdict) -> list[str]:
    """Why VERDICT blocks, one plain reason per kind of problem, in the order the screen found them;
    [] when it does not block."""
    blocking = blocking_findings(verdict)
    readings: dict[str, list[str]] = {}
    for finding in blocking:
        readings.setdefault(reason_for(finding), []).append(finding.reading)
    return [reason if AS_TYPED in found_in else f"{reason} ({reading_words(found_in[0])})"
            for reason, found_in in readings.items()]


def blocking_findings(verdict) -> list[Finding]:
    """VERDICT's blocking findings the analyst is told about: the classifier's vaguer "reads like an
    instruction" is left out when a rule has named the instruction ("it asks to send data outside")."""
    blocking = [finding for finding in verdict.findings if finding.action == BLOCK]
    if any(finding.detector == "injection_rules" for finding in blocking):
        blocking = [finding for finding in blocking if finding.detector != "injection_classifier"]
    return blocking


def reason_for(finding: Finding) -> str:
    """One blocking finding in plain words, without its score or the text it matched."""
    if finding.detector == "pii":
        return f"it contains {entity_name(finding.type)}"
    if finding.detector == "injection_rules":
        return INJECTION_RULE_WORDS.get(finding.type, INSTRUCTION)
    if finding.detector == "injection_classifier":
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


# What the analyst can do about each kind of problem (advice_for), by the detector that found it.
ASK_PLAINLY = "Ask about the documents in your own words, without instructions to the assistant."
ADVICE = {
    "injection_rules": ASK_PLAINLY,
    "injection_classifier": ASK_PLAINLY,
    "exfiltration": "The assistant sends nothing anywhere: ask only about what the documents say.",
    "obfuscation": "Ask again in plain text.",
    "denied_topic": "This topic is not answered here; your compliance officer can tell you where to ask.",
    "screening": "Try again in a minute; if it happens again, tell your compliance officer.",
}


def advice_for(verdict) -> str:
    """What the analyst can do next about VERDICT's blocking findings, one sentence per kind of
    problem: first the values to leave out ("Ask again without the payment card number."), then the
    rest in the order found; "" when it does not block, or for a harmful request (nothing to rephrase)."""
    blocking = blocking_findings(verdict)
    without = [value_words(finding) for finding in blocking if value_words(finding)]
    advice = [f"Ask again without {joined(list(dict.fromkeys(without)))}."] if without else []
    for finding in blocking:
        if finding.detector == "length":
            advice.append(f"Ask a shorter question, of at most {length_limit(finding):,} characters.")
        elif finding.detector == "policy_pattern" and finding.type.endswith(TIMED_OUT):
            advice.append(ADVICE["screening"])
        elif finding.detector == "injection_rules" and finding.type == "exfiltration":
            advice.append(ADVICE["exfiltration"])
        elif finding.detector in ADVICE:
            advice.append(ADVICE[finding.detector])
    return " ".join(dict.fromkeys(advice))


def value_words(finding: Finding) -> str:
    """"the payment card number" for a blocking finding the analyst can leave out of the question; ""."""
    if finding.detector == "pii":
        return f"the {entity_words(finding.type)}" if entity_name(finding.type) != UNNAMED_ENTITY else "that personal data"
    if finding.detector == "policy_pattern" and not finding.type.endswith(TIMED_OUT):
        return f"the {finding.type}"  # the pattern's name, as the officer wrote it ("Employee number")
    return ""


def blocked_text(verdict) -> str:
    """What the analyst reads for a blocked question: the summary and what to do (advice_for) on one
    line, then the policy's refusal text."""
    first = " ".join(part for part in (blocked_summary(verdict), advice_for(verdict)) if part)
    return "\n".join(part for part in (first, verdict.refusal) if part)


def joined(parts: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
