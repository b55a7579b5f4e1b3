"""PiiScanner, redact() and entity_counts(), with the real spaCy model and Presidio recognizers.

All personal data here is made up: example.com addresses, libphonenumber's example numbers, the
IBAN and card numbers published as test values.
"""
import logging
import threading
import time

import pytest

from guardrails.pii import (
    SUPPORTED_ENTITIES, PiiFinding, PiiScanner, entity_counts, redact, use_bundled_public_suffix_list,
)


@pytest.fixture(scope="module")
def scanner():
    scanner = PiiScanner()
    scanner.warm_up()
    return scanner


def found(scanner: PiiScanner, text: str) -> list[tuple[str, str]]:
    """(entity type, matched text) for each finding in TEXT."""
    return [(finding.entity_type, text[finding.start : finding.end]) for finding in scanner.scan([text])[0]]


def test_it_finds_an_email_address_and_names_its_recognizer(scanner):
    [findings] = scanner.scan(["Send the contract to maria.garcia@example.com by noon."])

    assert PiiFinding("EMAIL_ADDRESS", 21, 45, 1.0, "EmailRecognizer") in findings


def test_it_finds_an_email_address_not_also_the_web_addresses_inside_it(scanner):
    # Presidio's URL pattern finds "john.sm" (.sm is a top-level domain) and "gmail.com" inside the
    # address: the officer's bench showed one e-mail address as three findings.
    text = "Can I send the customer list to john.smith1987@gmail.com or see https://example.org/x today"

    assert [kind for kind, _ in found(scanner, text) if kind in ("EMAIL_ADDRESS", "URL")] == ["EMAIL_ADDRESS", "URL"]
    assert ("URL", "https://example.org/x") in found(scanner, text)


def test_it_scans_emails_and_urls_without_reaching_the_network(scanner, caplog):
    # pytest-socket fails any connection outside loopback. Where DNS fails first, tldextract's
    # default extractor would log a warning and fall back to its snapshot, so we check the log too.
    use_bundled_public_suffix_list()  # a fresh extractor: its first lookup happens in this test
    text = "Write to ops@example.co.uk or see https://status.example.org/today."

    with caplog.at_level(logging.DEBUG, logger="tldextract"):
        findings = found(scanner, text)

    assert ("EMAIL_ADDRESS", "ops@example.co.uk") in findings
    assert ("URL", "https://status.example.org/today.") in findings
    assert caplog.records == []


@pytest.mark.parametrize(
    "text, number",
    [
        ("Call Maria on +44 121 234 5678 after lunch.", "+44 121 234 5678"),
        ("Her mobile is 07400 123456.", "07400 123456"),
        ("Phone (201) 555-0123 for the front desk.", "(201) 555-0123"),
        ("Tel. +49 30 123456", "+49 30 123456"),
        ("The Paris telephone is 01 23 45 67 89.", "01 23 45 67 89"),
        ("Fax +41 21 234 56 78 is monitored.", "+41 21 234 56 78"),
        ("Contact the Milan office on 02 1234 5678.", "02 1234 5678"),
    ],
)
def test_it_finds_phone_numbers_in_international_formats(scanner, text, number):
    assert ("PHONE_NUMBER", number) in found(scanner, text)


def test_it_needs_a_context_word_to_report_a_phone_number(scanner):
    # Most runs of 6 to 11 digits are a valid number somewhere; without "phone", "call", "tel"...
    # before it, an order number is not reported as one.
    assert "PHONE_NUMBER" not in {entity for entity, _ in found(scanner, "Order 4500012345 shipped on time.")}


def test_it_finds_an_iban(scanner):
    findings = found(scanner, "Pay to IBAN GB82 WEST 1234 5698 7654 32 by Friday.")

    assert ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32") in findings


def test_it_finds_a_card_number_only_when_its_luhn_check_passes(scanner):
    assert ("CREDIT_CARD", "4111 1111 1111 1111") in found(scanner, "Card 4111 1111 1111 1111 was charged.")
    assert "CREDIT_CARD" not in {entity for entity, _ in found(scanner, "Card 4111 1111 1111 1112 was charged.")}


def test_it_finds_a_us_social_security_number(scanner):
    assert found(scanner, "Her social security number is 536-90-4399.") == [("US_SSN", "536-90-4399")]


def test_it_finds_people_named_in_a_sentence(scanner):
    findings = found(scanner, "Yesterday John Smith met Priya Patel to sign the lease.")

    assert [name for entity, name in findings if entity == "PERSON"] == ["John Smith", "Priya Patel"]


def test_it_finds_nothing_in_a_plain_business_sentence(scanner):
    assert scanner.scan(["The board approved the budget for cloud infrastructure."]) == [[]]


def test_it_returns_one_list_per_text_in_input_order(scanner):
    texts = [
        "",
        "Write to ops@example.co.uk now.",
        "",
        "The board approved the budget.",
        "Card 4111 1111 1111 1111 was charged.",
    ]

    results = scanner.scan(texts, batch_size=2)

    assert [[(f.entity_type, texts[i][f.start : f.end]) for f in findings] for i, findings in enumerate(results)] == [
        [],
        [("EMAIL_ADDRESS", "ops@example.co.uk")],  # its domain is not also a web address
        [],
        [],
        [("CREDIT_CARD", "4111 1111 1111 1111")],
    ]
    assert scanner.scan([]) == []


def test_it_looks_only_for_the_entity_types_asked_for():
    scanner = PiiScanner(entities=("EMAIL_ADDRESS",))

    findings = found(scanner, "John Smith: john@example.com, card 4111 1111 1111 1111")

    assert findings == [("EMAIL_ADDRESS", "john@example.com")]


def test_it_gives_the_same_findings_to_threads_sharing_one_scanner(scanner):
    texts = ["Write to maria.garcia@example.com or call +44 121 234 5678.", "Yesterday John Smith met Priya Patel."] * 8
    expected = scanner.scan(texts, batch_size=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(scanner.scan(texts, batch_size=4))) for _ in range(4)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected] * 4


def test_it_warms_up_only_once(scanner):
    started = time.perf_counter()
    scanner.warm_up()

    assert time.perf_counter() - started < 0.5


def test_it_keeps_pii_values_out_of_logs(scanner, caplog):
    values = ["Hans Muller", "DE89 3704 0044 0532 0130 00", "+49 30 123456", "hans@example.de"]
    text = "Transfer for {}: IBAN {}, phone {}, email {}.".format(*values)

    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="presidio-analyzer"):
        scanner.scan([text])

    assert caplog.records, "Presidio logs at DEBUG while it scans; the test needs those records"
    assert not [value for value in values if value in caplog.text]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"spacy_model": "en_core_web_sm"},
            "spacy_model must name an installed spaCy model package, got 'en_core_web_sm'",
        ),
        ({"score_threshold": 1.5}, "score_threshold must be a number from 0 to 1, got 1.5"),
        ({"entities": ()}, "entities must be a non-empty tuple of entity types, got ()"),
        (
            {"entities": ("PERSON", "SHOE_SIZE")},
            "entities: the scanner does not detect 'SHOE_SIZE'; it detects PERSON, NRP, LOCATION, DATE_TIME, "
            "EMAIL_ADDRESS, PHONE_NUMBER, URL, IP_ADDRESS, MAC_ADDRESS, CREDIT_CARD, IBAN_CODE, CRYPTO, "
            "US_BANK_NUMBER, US_SSN, US_ITIN, US_PASSPORT, US_DRIVER_LICENSE, MEDICAL_LICENSE, UK_NHS, "
            "ES_NIF, ES_NIE, IT_FISCAL_CODE, PL_PESEL, FI_PERSONAL_IDENTITY_CODE, SE_PERSONNUMMER, NL_BSN, FR_NIR, "
            "BE_NATIONAL_NUMBER, DE_TAX_ID",
        ),
    ],
)
def test_it_rejects_bad_configuration_naming_the_value(kwargs, message):
    with pytest.raises(ValueError) as raised:
        PiiScanner(**kwargs)

    assert str(raised.value) == message


def test_it_rejects_a_bare_string_and_a_batch_size_below_one(scanner):
    with pytest.raises(TypeError) as raised:
        scanner.scan("Call Maria")
    assert str(raised.value) == "scan() takes a sequence of strings"

    with pytest.raises(ValueError) as raised:
        scanner.scan(["Call Maria"], batch_size=0)
    assert str(raised.value) == "batch_size must be at least 1, got 0"


def test_it_applies_a_score_threshold_given_for_one_call(scanner):
    # Without a context word, Presidio's PhoneRecognizer scores a national number 0.4.
    text = "Ask for 07400 123456 at the front desk."

    def phones(**kwargs) -> list[tuple[str, float]]:
        [findings] = scanner.scan([text], **kwargs)
        return [(text[f.start : f.end], f.score) for f in findings if f.entity_type == "PHONE_NUMBER"]

    assert phones() == []
    assert phones(score_threshold=0.3) == [("07400 123456", 0.4)]
    assert phones() == []  # the scanner's own threshold is unchanged
    assert phones(score_threshold=0.41) == []


@pytest.mark.parametrize("score_threshold", [1.5, -0.1, True, "0.3", float("nan")])
def test_it_rejects_a_score_threshold_outside_zero_to_one_naming_it(scanner, score_threshold):
    with pytest.raises(ValueError) as raised:
        scanner.scan(["Call Maria"], score_threshold=score_threshold)

    assert str(raised.value) == f"score_threshold must be a number from 0 to 1, got {score_threshold!r}"


def test_it_lists_the_entity_types_it_can_look_for_without_loading_presidio():
    assert PiiScanner.supported_entities() == SUPPORTED_ENTITIES
    assert {"NL_BSN", "FR_NIR", "BE_NATIONAL_NUMBER", "DE_TAX_ID", "PL_PESEL"} <= set(PiiScanner.supported_entities())


def test_it_redacts_what_it_finds(scanner):
    text = "Write to maria.garcia@example.com or call +44 121 234 5678."

    assert redact(text, scanner.scan([text])[0]) == "Write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>."


def test_it_redacts_overlapping_findings_once_giving_the_more_sensitive_type_the_span():
    text = "Call 0301234567 now, or write to ana@example.org"
    findings = [
        PiiFinding("PHONE_NUMBER", 5, 15, 0.75, "PhoneRecognizer"),
        PiiFinding("DATE_TIME", 5, 15, 0.85, "SpacyRecognizer"),  # spaCy's small model often sees dates in numbers
        PiiFinding("EMAIL_ADDRESS", 33, 48, 1.0, "EmailRecognizer"),
        PiiFinding("URL", 37, 48, 0.5, "UrlRecognizer"),  # inside the address
    ]

    assert redact(text, findings) == "Call <PHONE_NUMBER> now, or write to <EMAIL_ADDRESS>"


def test_it_leaves_text_without_findings_as_it_is():
    assert redact("Nothing to hide here.", []) == "Nothing to hide here."


def test_it_counts_findings_by_entity_type():
    findings = [
        PiiFinding("EMAIL_ADDRESS", 0, 5, 1.0, "EmailRecognizer"),
        PiiFinding("PERSON", 6, 10, 0.85, "SpacyRecognizer"),
        PiiFinding("EMAIL_ADDRESS", 11, 15, 1.0, "EmailRecognizer"),
    ]

    assert entity_counts(findings) == {"EMAIL_ADDRESS": 2, "PERSON": 1}
    assert entity_counts([]) == {}
