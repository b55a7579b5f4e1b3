"""appliance/plain_words.py: what a code means to the person reading it."""
from appliance.plain_words import (ENTITY_NAMES, check_short_words, check_words, detector_words, entity_name,
                                   entity_words, finding_action_words, outcome_words, route_name_words, timing_rows)
from guardrails.pii import PiiScanner


def test_every_type_the_scanner_finds_has_a_name():
    assert set(PiiScanner.supported_entities()) <= set(ENTITY_NAMES)


def test_it_names_an_entity_type_in_a_sentence_and_as_a_label():
    assert entity_name("IBAN_CODE") == "a bank account number (IBAN)"
    assert entity_words("IBAN_CODE") == "bank account number (IBAN)"
    assert entity_words("CREDIT_CARD") == "payment card number"
    assert entity_words("PERSON") == "person's name"


def test_an_unknown_code_is_never_shown_alone_as_words():
    assert entity_words("XX_NEW_ID") == "another kind of personal data"
    assert entity_name("XX_NEW_ID") == "a kind of personal data the policy does not allow"


def test_it_names_detectors_actions_outcomes_routes_and_checks():
    assert [detector_words(code) for code in ("injection_classifier", "harmful_request", "policy_pattern", "denied_topic")] \
        == ["injection classifier", "harmful-request detector", "organisation pattern", "denied topic"]
    assert [finding_action_words(code) for code in ("block", "sensitive", "report")] \
        == ["blocks", "keeps it inside", "recorded for officers; does not stop the question"]
    assert [outcome_words(code) for code in ("answered", "quoted", "not_found", "refused", "blocked")] \
        == ["Answered", "Quotes only", "Not in the documents", "Refused", "Blocked"]
    assert [route_name_words(code) for code in ("local-specialist", "external-general", "refuse")] \
        == ["Inside the perimeter", "Outside the perimeter", "No model allowed"]
    assert check_words("grounding") == "grounding: says only what its quotes say (figures, names, quotations)"
    assert check_short_words("grounding") == "grounding"
    assert check_words("numbers") == "numbers"


def test_it_gives_timings_in_words_with_units_in_the_order_the_steps_run():
    timings = {"generate_ms": 2500.0, "screen_ms": 12.46, "new_step_ms": 3.0, "pieces": 9}

    assert timing_rows(timings) == [
        ("screening the question", "12 ms", "screen_ms"),
        ("generating the answer", "2.5 s", "generate_ms"),
        ("pieces the model wrote", "9", "pieces"),
        ("new step", "3 ms", "new_step_ms"),
    ]


def test_every_ledger_event_the_code_records_has_words():
    """The ledger list's Event column names each event in words (its code is secondary text)."""
    import re
    from pathlib import Path

    from appliance.plain_words import ACTION_WORDS, action_words
    root = Path(__file__).resolve().parent.parent
    recorded = {match for folder in ("appliance", "guardrails", "ingest") for path in (root / folder).rglob("*.py")
                for match in re.findall(r'record_event\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text())}
    assert recorded and recorded <= set(ACTION_WORDS), sorted(recorded - set(ACTION_WORDS))
    assert action_words("review.reviewed") == "Marked reviewed"
    assert action_words("policy.replayed") == "Stored questions replayed under a draft policy"
    assert action_words("thing.done_twice") == "Thing done twice"


def test_every_injection_rule_and_blocking_finding_reads_in_words():
    from appliance.plain_words import INJECTION_RULE_WORDS, finding_words
    from guardrails.injection import RULES
    assert {name for name, _ in RULES} <= set(INJECTION_RULE_WORDS)
    assert finding_words({"detector": "injection_rules", "type": "exfiltration"}) == \
        "asks to send data out (exfiltration rule)"
    assert finding_words({"detector": "pii", "type": "CREDIT_CARD"}) == "payment card number"
    assert finding_words({"detector": "denied_topic", "type": "Mergers"}) == "denied topic: Mergers"


def test_why_an_answer_was_kept_inside_names_each_source_above_public():
    from appliance.plain_words import kept_inside_words
    assert kept_inside_words({"question": "public", "collections": "internal", "chunks": "confidential"}) == [
        "collection asked is internal", "passages retrieved are confidential"]
    assert kept_inside_words({"question": "confidential"}) == ["personal data in the question"]
