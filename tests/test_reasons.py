"""guardrails/reasons.py: why a question was blocked, in the analyst's words."""
import pytest

from guardrails.findings import BLOCK, REPORT, SENSITIVE, Finding
from guardrails.reasons import advice_for, blocked_summary, blocked_text, entity_name, reasons_for
from guardrails.screening import Verdict


def verdict(*findings: Finding, version: int = 3, refusal: str = "Ask your compliance officer.") -> Verdict:
    action = BLOCK if any(f.action == BLOCK for f in findings) else SENSITIVE
    return Verdict(action, findings, version, refusal if action == BLOCK else "")


@pytest.mark.parametrize(("finding", "reason"), [
    (Finding("pii", "CREDIT_CARD", 10, 29, 1.0, BLOCK), "it contains a payment card number"),
    (Finding("pii", "US_SSN", 10, 21, 0.85, BLOCK), "it contains a US social security number"),
    (Finding("pii", "SOME_NEW_ID", 10, 21, 0.85, BLOCK), "it contains a kind of personal data the policy does not allow"),
    (Finding("injection_rules", "override earlier instructions", 0, 30, 1.0, BLOCK),
     "it tells the assistant to ignore its instructions"),
    (Finding("injection_rules", "exfiltration", 0, 30, 1.0, BLOCK),
     "it asks to send data outside, to an e-mail address or a web address"),
    (Finding("injection_rules", "bulk verbatim dump", 0, 30, 1.0, BLOCK), "it asks for whole documents word for word"),
    (Finding("injection_rules", "a rule added later", 0, 30, 1.0, BLOCK), "it reads like an instruction to the assistant"),
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

    # The classifier's vaguer reason is left out: a rule named the instruction.
    assert reasons_for(blocked) == ["it asks for the assistant's own instructions or settings",
                                    "it contains a payment card number"]
    assert blocked_summary(blocked) == (
        "Stopped by policy version 3 because it asks for the assistant's own instructions or settings and it contains "
        "a payment card number.")
    assert blocked_text(blocked) == (
        blocked_summary(blocked) + " Ask again without the payment card number. Ask about the documents in your own "
        "words, without instructions to the assistant.\nAsk your compliance officer.")


def test_it_says_how_hidden_text_was_written_when_only_a_decoded_reading_has_it():
    blocked = verdict(Finding("pii", "US_SSN", 12, 40, 0.85, BLOCK, "base64"),
                      Finding("obfuscation", "tag characters", 41, 80, 1.0, BLOCK),
                      Finding("injection_rules", "override earlier instructions", 41, 80, 1.0, BLOCK, "hidden tag text"))

    assert blocked_summary(blocked) == (
        "Stopped by policy version 3 because it contains a US social security number (encoded in base64), it hides "
        "text in invisible characters and it tells the assistant to ignore its instructions (hidden in invisible "
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


def test_every_injection_rule_has_a_reason_of_its_own():
    from guardrails.injection import RULES
    from guardrails.reasons import INJECTION_RULE_WORDS

    assert {name for name, _ in RULES} == set(INJECTION_RULE_WORDS)
    assert len(set(INJECTION_RULE_WORDS.values())) == len(INJECTION_RULE_WORDS)


@pytest.mark.parametrize(("findings", "advice"), [
    ((Finding("pii", "CREDIT_CARD", 10, 29, 1.0, BLOCK), Finding("pii", "US_SSN", 30, 41, 1.0, BLOCK),
      Finding("pii", "CREDIT_CARD", 50, 69, 1.0, BLOCK), Finding("pii", "PERSON", 0, 8, 0.85, SENSITIVE)),
     "Ask again without the payment card number and the US social security number."),
    ((Finding("pii", "SOME_NEW_ID", 10, 21, 0.85, BLOCK),), "Ask again without that personal data."),
    ((Finding("policy_pattern", "Employee number", 5, 15, 1.0, BLOCK),), "Ask again without the Employee number."),
    ((Finding("injection_rules", "exfiltration", 0, 30, 1.0, BLOCK),),
     "The assistant sends nothing anywhere: ask only about what the documents say."),
    ((Finding("injection_classifier", "injection or jailbreak", 0, 30, 0.97, BLOCK),),
     "Ask about the documents in your own words, without instructions to the assistant."),
    ((Finding("denied_topic", "Mergers", 0, 30, 0.81, BLOCK),),
     "This topic is not answered here; your compliance officer can tell you where to ask."),
    ((Finding("length", "longer than 4000 characters", 4000, 5000, 1.0, BLOCK),),
     "Ask a shorter question, of at most 4,000 characters."),
    ((Finding("obfuscation", "tag characters", 3, 40, 1.0, BLOCK),), "Ask again in plain text."),
    ((Finding("screening", "personal data check failed", 0, 40, 1.0, BLOCK),
      Finding("policy_pattern", "Case id (timed out)", 0, 40, 1.0, BLOCK)),
     "Try again in a minute; if it happens again, tell your compliance officer."),
    ((Finding("harmful_request", "harmful method", 0, 40, 1.0, BLOCK),), ""),
])
def test_it_tells_the_analyst_what_to_do_without_repeating_the_value(findings, advice):
    assert advice_for(verdict(*findings)) == advice
