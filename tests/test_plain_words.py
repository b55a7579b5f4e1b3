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
