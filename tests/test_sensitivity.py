import inspect

import pytest

from guardrails.pii import SUPPORTED_ENTITIES
from guardrails.sensitivity import (
    DEFAULT_ENTITY_LABELS, ENTITY_SENSITIVITY, LEVELS, explain_label, max_sensitivity, sensitivity_of_entities,
)


def test_it_orders_levels_lowest_first():
    assert LEVELS == ("public", "internal", "confidential", "restricted")


def test_it_takes_the_highest_level():
    assert max_sensitivity("internal", "restricted", "public") == "restricted"
    assert max_sensitivity("confidential") == "confidential"


def test_it_calls_no_levels_public():
    assert max_sensitivity() == "public"


def test_it_rejects_an_unknown_level_naming_it():
    with pytest.raises(ValueError) as raised:
        max_sensitivity("internal", "secret")

    assert str(raised.value) == (
        "unknown sensitivity level 'secret'; expected one of: public, internal, confidential, restricted"
    )


@pytest.mark.parametrize(
    "entity_type, level",
    [
        ("DATE_TIME", "public"),
        ("URL", "public"),
        ("LOCATION", "public"),
        ("NRP", "public"),
        ("IP_ADDRESS", "internal"),
        ("MAC_ADDRESS", "internal"),
        ("PERSON", "confidential"),
        ("EMAIL_ADDRESS", "confidential"),
        ("PHONE_NUMBER", "confidential"),
        ("CREDIT_CARD", "restricted"),
        ("IBAN_CODE", "restricted"),
        ("US_SSN", "restricted"),
        ("US_BANK_NUMBER", "restricted"),
        ("US_PASSPORT", "restricted"),
        ("US_DRIVER_LICENSE", "restricted"),
        ("US_ITIN", "restricted"),
        ("UK_NHS", "restricted"),
        ("MEDICAL_LICENSE", "restricted"),
        ("CRYPTO", "restricted"),
        ("ES_NIF", "restricted"),
        ("IT_FISCAL_CODE", "restricted"),
        ("PL_PESEL", "restricted"),
        ("FI_PERSONAL_IDENTITY_CODE", "restricted"),
        ("SE_PERSONNUMMER", "restricted"),
        ("NL_BSN", "restricted"),
        ("FR_NIR", "restricted"),
        ("BE_NATIONAL_NUMBER", "restricted"),
        ("DE_TAX_ID", "restricted"),
    ],
)
def test_it_labels_an_entity_type(entity_type, level):
    assert sensitivity_of_entities([entity_type]) == level


def test_it_labels_a_text_by_its_most_sensitive_entity():
    assert sensitivity_of_entities(["DATE_TIME", "PERSON", "URL", "LOCATION"]) == "confidential"
    assert sensitivity_of_entities(["EMAIL_ADDRESS", "IBAN_CODE"]) == "restricted"


def test_it_labels_a_text_without_entities_public():
    assert sensitivity_of_entities([]) == "public"


def test_it_treats_an_unknown_entity_type_as_confidential():
    assert sensitivity_of_entities(["SHOE_SIZE"]) == "confidential"
    assert sensitivity_of_entities(["SHOE_SIZE", "DATE_TIME"]) == "confidential"


def test_it_labels_every_entity_type_the_scanner_detects():
    assert set(SUPPORTED_ENTITIES) - set(ENTITY_SENSITIVITY) == set()
    assert set(DEFAULT_ENTITY_LABELS) == set(SUPPORTED_ENTITIES)


def test_it_leaves_places_dates_web_addresses_and_nationalities_public():
    assert sensitivity_of_entities(["LOCATION", "DATE_TIME", "URL", "NRP"]) == "public"


def test_it_labels_by_the_labels_it_is_given():
    labels = {"LOCATION": "restricted", "PERSON": "public"}

    assert sensitivity_of_entities(["LOCATION"], labels) == "restricted"
    assert sensitivity_of_entities(["PERSON"], labels) == "public"
    assert sensitivity_of_entities(["EMAIL_ADDRESS"], labels) == "confidential"  # not listed: careful


@pytest.mark.parametrize("level, counts, classification, reason", [
    ("restricted", {"EMAIL_ADDRESS": 3, "IBAN_CODE": 1, "LOCATION": 2}, "public",
     "restricted because it contains 1 IBAN and 3 e-mail addresses (policy v4)"),
    ("confidential", {"PERSON": 1}, "confidential",
     "confidential because its collection is classified confidential and it contains 1 person's name (policy v4)"),
    ("internal", {}, "internal", "internal because its collection is classified internal (policy v4)"),
    ("public", {"LOCATION": 2, "DATE_TIME": 1}, "public",
     "public: no personal data that raises the label; it contains 1 date or time and 2 places, which do not raise it "
     "(policy v4)"),
    ("public", {"LOCATION": 1}, "public",
     "public: no personal data that raises the label; it contains 1 place, which does not raise it (policy v4)"),
    ("public", {}, "public", "public: no personal data that raises the label (policy v4)"),
    ("confidential", {"SHOE_SIZE": 2}, "public", "confidential because it contains 2 × SHOE_SIZE (policy v4)"),
])
def test_it_explains_a_label_in_words(level, counts, classification, reason):
    assert explain_label(level, counts, DEFAULT_ENTITY_LABELS, classification, 4) == reason


def test_it_maps_only_entity_types_a_recognizer_knows():
    """A misspelt key would silently fall back to confidential, so compare with the names of
    Presidio's recognizers and ours."""
    import presidio_analyzer.predefined_recognizers as predefined
    from presidio_analyzer import EntityRecognizer

    import guardrails.recognizers as ours

    known = {"PERSON", "NRP", "LOCATION", "DATE_TIME"}  # from spaCy NER
    for recognizer in [*vars(predefined).values(), *vars(ours).values()]:
        if isinstance(recognizer, type) and issubclass(recognizer, EntityRecognizer):
            parameter = inspect.signature(recognizer).parameters.get("supported_entity")
            if parameter is not None and isinstance(parameter.default, str):
                known.add(parameter.default)

    assert set(ENTITY_SENSITIVITY) - known == set()
    assert set(ENTITY_SENSITIVITY.values()) <= set(LEVELS)
