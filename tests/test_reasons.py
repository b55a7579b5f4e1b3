"""guardrails/reasons.py: why a question was blocked, in the analyst's words."""
import pytest

from guardrails.findings import BLOCK, REPORT, SENSITIVE, Finding
from guardrails.reasons import blocked_summary, blocked_text, entity_name, reasons_for
from guardrails.screening import Verdict


def verdict(*findings: Finding, version: int = 3, refusal: str = "Ask your compliance officer.") -> Verdict:
    action = BLOCK if any(f.action == BLOCK for f in findings) else SENSITIVE
    return Verdict(action, findings, version, refusal if action == BLOCK else "")


@pytest.mark.parametrize(("finding", "reason"), [
    (Finding("pii", "CREDIT_CARD", 10, 29, 1.0, BLOCK), "it contains a payment card number"),
    (Finding("pii", "US_SSN", 10, 21, 0.85, BLOCK), "it contains a US social security number"),
    (Finding("pii", "SOME_NEW_ID", 10, 21, 0.85, BLOCK), "it contains a kind of personal data the policy does not allow"),
    (Finding("injection_rules", "override earlier instructions", 0, 30, 1.0, BLOCK),
     "it reads like an instruction to the assistant"),
    (Finding("injection_classifier", "injection or jailbreak", 0, 30, 0.97, BLOCK),
     "it reads like an instruction to the assistant"),
    (Finding("denied_topic", "Mergers", 0, 30, 0.81, BLOCK), "it matches the denied topic 'Mergers'"),
    (Finding("length", "longer than 4000 characters", 4000, 5000, 1.0, BLOCK),
     "it is longer than the 4,000 characters allowed"),
    (Finding("policy_pattern", "Employee number", 5, 15, 1.0, BLOCK),
     "it matches the organisation pattern 'Employee number'"),
    (Finding("policy_pattern", "Case id (timed out)", 0, 40, 1.0, BLOCK),
     "the organisation pattern 'Case id' took too long to check, and the policy holds questions back when that "
     "happens (fail closed)"),
    (Finding("screening", "personal data check failed", 0, 40, 1.0, BLOCK),
     "a screening check could not run, and the policy holds questions back when that happens (fail closed)"),
    (Finding("obfuscation", "tag characters", 3, 40, 1.0, BLOCK), "it hides text in invisible characters"),
    (Finding("obfuscation", "variation selectors", 3, 40, 1.0, BLOCK), "it hides text in invisible characters"),
    (Finding("harmful_request", "weapons and drugs", 0, 40, 1.0, BLOCK),
     "it asks for a way to cause serious harm (weapons, drugs, poisons, malware or break-ins)"),
])
def test_it_names_the_kind_of_problem_in_plain_words(finding, reason):
    assert reasons_for(verdict(finding)) == [reason]


def test_it_says_each_kind_once_in_the_order_found_with_the_policy_version():
    blocked = verdict(
        Finding("injection_rules", "reveal the system prompt", 0, 30, 1.0, BLOCK),
        Finding("injection_classifier", "injection or jailbreak", 0, 60, 0.91, BLOCK),
        Finding("pii", "CREDIT_CARD", 40, 59, 1.0, BLOCK),
        Finding("pii", "CREDIT_CARD", 40, 59, 1.0, BLOCK, "base64"),
        Finding("pii", "PERSON", 0, 8, 0.85, SENSITIVE),
        Finding("pii", "DATE_TIME", 0, 8, 0.85, REPORT),
    )

    assert reasons_for(blocked) == ["it reads like an instruction to the assistant", "it contains a payment card number"]
    assert blocked_summary(blocked) == (
        "Stopped by policy version 3 because it reads like an instruction to the assistant and it contains a payment "
        "card number.")
    assert blocked_text(blocked) == blocked_summary(blocked) + "\nAsk your compliance officer."


def test_it_says_how_hidden_text_was_written_when_only_a_decoded_reading_has_it():
    blocked = verdict(Finding("pii", "US_SSN", 12, 40, 0.85, BLOCK, "base64"),
                      Finding("obfuscation", "tag characters", 41, 80, 1.0, BLOCK),
                      Finding("injection_rules", "override earlier instructions", 41, 80, 1.0, BLOCK, "hidden tag text"))

    assert blocked_summary(blocked) == (
        "Stopped by policy version 3 because it contains a US social security number (encoded in base64), it hides "
        "text in invisible characters and it reads like an instruction to the assistant (hidden in invisible "
        "characters).")


def test_it_gives_no_reasons_for_a_question_it_does_not_block():
    assert reasons_for(verdict(Finding("pii", "PERSON", 0, 8, 0.85, SENSITIVE))) == []


def test_it_never_shows_a_score_or_an_internal_code():
    findings = [Finding("pii", entity, 0, 8, 0.8731, BLOCK) for entity in ("US_SSN", "UK_NHS", "IBAN_CODE", "ES_NIF")]

    text = blocked_text(verdict(*findings, Finding("injection_classifier", "injection or jailbreak", 0, 8, 0.9123, BLOCK)))

    for hidden in ("0.87", "0.91", "87", "US_SSN", "UK_NHS", "IBAN_CODE", "ES_NIF", "injection_classifier", "pii"):
        assert hidden not in text
    assert entity_name("IBAN_CODE") == "a bank account number (IBAN)"


def test_it_has_plain_words_for_every_reading_and_obfuscation_the_screen_makes():
    from guardrails.normalisation import KINDS, ORIGINS
    from guardrails.reasons import OBFUSCATION_WORDS, READING_WORDS

    assert set(ORIGINS) - {"normalised"} <= set(READING_WORDS)
    assert set(KINDS) <= set(OBFUSCATION_WORDS)
