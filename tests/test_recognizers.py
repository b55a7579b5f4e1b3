"""guardrails.recognizers through a PiiScanner: international phone numbers and EU national ids.

Every id here is made up or a published example: PESEL 44051401359 (Wikipedia), henkilötunnus
131052-308T (the DVV's example), personnummer 811218-9876 (Skatteverket's), BSN 111222333 (the
test number Dutch systems use), NIR 2 55 08 14 168 025 38 and Belgian number 85.07.30-033.28
(commonly cited examples), Steuer-IdNr 86095742719 (Presidio's docstring). Those computed here say
how. Phone numbers are libphonenumber's examples or in ranges kept for drama (+44 20 7946 0xxx).
"""
import pytest

from guardrails.pii import PiiScanner


@pytest.fixture(scope="module")
def scanner():
    scanner = PiiScanner()
    scanner.warm_up()
    return scanner


def findings(scanner: PiiScanner, text: str, score_threshold: float | None = None) -> list[tuple[str, int, int]]:
    """(entity type, start, end) of each finding in TEXT."""
    [found] = scanner.scan([text], score_threshold=score_threshold)
    return [(finding.entity_type, finding.start, finding.end) for finding in found]


def span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


VALID_IDS = [
    ("PL_PESEL", "His PESEL is 44051401359.", "44051401359"),
    ("PL_PESEL", "Born in 2002: 02270803624 on the form.", "02270803624"),  # month 27: July 2000s
    ("FI_PERSONAL_IDENTITY_CODE", "Her hetu is 131052-308T.", "131052-308T"),
    ("SE_PERSONNUMMER", "Personnummer 811218-9876, filed.", "811218-9876"),
    ("SE_PERSONNUMMER", "Personnummer 19811218-9876, filed.", "19811218-9876"),
    ("NL_BSN", "BSN 111222333 is on file.", "111222333"),
    ("NL_BSN", "Her burgerservicenummer is 1112.22.333.", "1112.22.333"),
    ("FR_NIR", "Numéro de sécurité sociale 2 55 08 14 168 025 38 pour Mme X.", "2 55 08 14 168 025 38"),
    ("FR_NIR", "The NIR 255081416802538 was on the payslip.", "255081416802538"),
    # Corsica: 2A counts as 19, key = 97 - (2550819004168 mod 97) = 24.
    ("FR_NIR", "Born in Ajaccio, NIR 2 55 08 2A 004 168 24.", "2 55 08 2A 004 168 24"),
    ("BE_NATIONAL_NUMBER", "Rijksregisternummer 85.07.30-033.28 in the file.", "85.07.30-033.28"),
    # Born 2001: key = 97 - (2010203123 mod 97) = 45; before 2000 it would be 16.
    ("BE_NATIONAL_NUMBER", "National number 01.02.03-123.45 in the file.", "01.02.03-123.45"),
    ("BE_NATIONAL_NUMBER", "National number 85073003328 in the file.", "85073003328"),
    ("DE_TAX_ID", "Ihre Steuer-IdNr. 86095742719 bitte angeben.", "86095742719"),
    ("DE_TAX_ID", "Her German tax ID is 86 095 742 719.", "86 095 742 719"),
    ("ES_NIF", "Her NIF is 12345678Z.", "12345678Z"),
    ("ES_NIE", "His NIE is X1234567L.", "X1234567L"),
    ("IT_FISCAL_CODE", "Codice fiscale RSSMRA85T10A562S.", "RSSMRA85T10A562S"),
    ("UK_NHS", "NHS number 943 476 5919.", "943 476 5919"),
]


@pytest.mark.parametrize("entity_type, text, value", VALID_IDS)
def test_it_finds_a_national_id_whose_check_digits_are_right(scanner, entity_type, text, value):
    assert (entity_type, *span(text, value)) in findings(scanner, text)


@pytest.mark.parametrize(
    "entity_type, text",
    [
        ("PL_PESEL", "His PESEL is 44051401358."),
        ("FI_PERSONAL_IDENTITY_CODE", "Her hetu is 131052-308U."),
        ("SE_PERSONNUMMER", "Personnummer 811218-9875, filed."),
        ("NL_BSN", "BSN 111222334 is on file."),
        ("FR_NIR", "Numéro de sécurité sociale 2 55 08 14 168 025 39 pour Mme X."),
        ("FR_NIR", "Born in Ajaccio, NIR 2 55 08 2B 004 168 24."),  # 2B counts as 18, not 19
        ("BE_NATIONAL_NUMBER", "Rijksregisternummer 85.07.30-033.29 in the file."),
        ("BE_NATIONAL_NUMBER", "National number 01.02.03-123.44 in the file."),
        ("DE_TAX_ID", "Ihre Steuer-IdNr. 86095742718 bitte angeben."),
        ("ES_NIF", "Her NIF is 12345678A."),
        ("UK_NHS", "NHS number 943 476 5918."),
    ],
)
def test_it_ignores_a_national_id_whose_check_digits_are_wrong(scanner, entity_type, text):
    # Threshold 0: a failed check drops the match, it does not merely lower its score.
    assert entity_type not in {entity for entity, _, _ in findings(scanner, text, score_threshold=0)}


@pytest.mark.parametrize(
    "entity_type, text",
    [("NL_BSN", "Invoice 111222333 was paid in full."), ("DE_TAX_ID", "Order 86095742719 shipped on time.")],
)
def test_it_needs_a_context_word_for_ids_that_one_number_in_ten_passes(scanner, entity_type, text):
    # About 1 in 11 of all 9-digit numbers pass the BSN's 11-proof: without "bsn" (or "steuer",
    # "tax"...) before it, an invoice number is not a citizen's id, whatever the threshold.
    assert entity_type not in {entity for entity, _, _ in findings(scanner, text, score_threshold=0)}


@pytest.mark.parametrize(
    "text, number",
    [
        ("Reach Sam at +44 20 7946 0958 tomorrow.", "+44 20 7946 0958"),
        ("The Berlin desk is +49 30 901820.", "+49 30 901820"),
        ("Ask the Paris office at +33 1 23 45 67 89 first.", "+33 1 23 45 67 89"),
        ("Ask the Madrid office at +34 912 345 678 first.", "+34 912 345 678"),
        ("Ask Anna at +48 22 123 45 67 about it.", "+48 22 123 45 67"),
        ("Our Tokyo office, +81 3-1234-5678, opens at nine.", "+81 3-1234-5678"),
        ("Ask at +1 (201) 555-0123 x 123 before Friday.", "+1 (201) 555-0123 x 123"),
        ("Reach Sam at (+44) 20 7946 0958 tomorrow.", "(+44) 20 7946 0958"),
        ("Reach Sam at +44 (0)20 7946 0958 tomorrow.", "+44 (0)20 7946 0958"),
        ("Reach Sam at +44.20.7946.0958 tomorrow.", "+44.20.7946.0958"),
        ("Reach Sam at 0044 20 7946 0958 tomorrow.", "0044 20 7946 0958"),
        ("Reach Sam at +442079460958 tomorrow.", "+442079460958"),
        ("Ring +33 1 23 45 67 89 2 times.", "+33 1 23 45 67 89"),  # the trailing 2 is not part of it
    ],
)
def test_it_finds_international_phone_numbers_without_a_context_word(scanner, text, number):
    [found] = scanner.scan([text])

    [phone] = [finding for finding in found if finding.entity_type == "PHONE_NUMBER"]
    assert ((phone.start, phone.end), phone.score, phone.recognizer) == (
        span(text, number), 0.75, "InternationalPhoneRecognizer"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Revenue grew +12.5% to +1,250,000 over the year.",
        "Margins moved +5% and headcount +12 in the quarter.",
        "The change is +1.234.567,89 EUR against plan.",
        "Balance +1 250 000 after the transfer.",
        "Invoice 00442079460958 is overdue.",  # 00 and no grouping: an account or invoice number
        "Invoice INV-0044 2079 4609 58 is overdue.",
        "See ref 2024/00442079460958 in the archive.",
        "Logged at 2024-05-01T10:00:00+02:00 and 2024-05-01 10:00:00 +0200.",
        "Dates: +2024-05-01, 01/05/2024 and 2024-05-01.",
        "Paid with IBAN DE89 3704 0044 0532 0130 00 yesterday.",
        "Jane and +1 more reacted; UTC+1 00:30 is the cutoff.",
    ],
)
def test_it_does_not_take_amounts_dates_or_references_for_international_phone_numbers(scanner, text):
    [found] = scanner.scan([text], score_threshold=0)

    assert [finding for finding in found if finding.recognizer == "InternationalPhoneRecognizer"] == []
    assert "PHONE_NUMBER" not in {entity for entity, _, _ in findings(scanner, text)}


def test_it_reports_a_number_both_phone_recognizers_find_once(scanner):
    # Presidio's PhoneRecognizer finds it too (0.4, 0.75 after "call"); the analyzer keeps one
    # finding per span and type, even at the low threshold screening asks for.
    for text in ["Call +44 20 7946 0958 today.", "Write to +44 20 7946 0958 today."]:
        phones = [found for found in findings(scanner, text, score_threshold=0.3) if found[0] == "PHONE_NUMBER"]

        assert phones == [("PHONE_NUMBER", *span(text, "+44 20 7946 0958"))]


def test_it_takes_a_number_with_a_country_code_for_a_phone_number_not_a_date(scanner):
    # 07700 900xxx is kept for drama: libphonenumber finds it possible, not valid.
    text = "Call +44 7700 900123 about the claim."

    [found] = scanner.scan([text], score_threshold=0.3)

    assert [(f.entity_type, text[f.start:f.end], f.score) for f in found] == [("PHONE_NUMBER", "+44 7700 900123", 0.55)]


def test_it_scores_a_valid_number_higher_than_one_that_only_fits_the_numbering_plan(scanner):
    # A policy asks for valid numbers only with a PHONE_NUMBER minimum score between the two.
    [[possible], [valid]] = scanner.scan(["Ring +44 7700 900123.", "Ring +44 20 7946 0958."])

    assert (possible.score, valid.score) == (0.55, 0.75)


def test_it_does_not_also_call_an_iban_a_card_number(scanner):
    # The last 18 digits of this IBAN pass the card number's Luhn check too.
    text = "Pay the supplier into DE21 4416 1508 7734 5266 50 as agreed."

    assert findings(scanner, text, score_threshold=0.3) == [("IBAN_CODE", *span(text, "DE21 4416 1508 7734 5266 50"))]


@pytest.mark.parametrize(
    "text, name",
    [
        ("which supplier contracts did padraig kelleher sign off last year", "padraig kelleher"),
        ("hi, this is javier crespo, i need help with my loan", "javier crespo"),
        ("Did Аполлон Королев receive the offer?", "Аполлон Королев"),
        ("藤田美加子 wrote about the expense rules.", "藤田美加子"),
        ("Did ترف الديسي receive the car lease offer?", "ترف الديسي"),
        ("has dr kowalski signed the discharge letter", "kowalski"),
        ("has dr bajramović signed the discharge letter", "bajramović"),  # after a title, listed or not
        ("Has Mr Łukasiewicz returned the signed form?", "Łukasiewicz"),
        ("patient nowak was discharged on Monday", "nowak"),
    ],
)
def test_it_finds_names_in_lower_case_and_in_other_scripts(scanner, text, name):
    people = [(entity, start, end) for entity, start, end in findings(scanner, text) if entity == "PERSON"]

    assert people == [("PERSON", *span(text, name))]


@pytest.mark.parametrize(
    "text",
    [
        "Will the new expense rules apply to payroll?",
        "May we grant read access to the audit team?",
        "Mark the complaints as resolved once legal has replied.",
        "Who has to approve a bill over the limit?",
        "I'm new to Linux: what does chown do?",
        "What does the Git user manual say about backups?",
        "What are the payment terms for Contoso invoices?",
        "¿Dónde están las instrucciones para las copias de seguridad?",
        "🤔 Which package installs dbus-daemon?",
        "How many days do we have for password rotation?",
        "Can I open the report in ms word?",
        # From new-user trials: a handbook named no one, and was labelled confidential for a "person's name".
        "The Head Nurse supervises all nurses and the rota.",
        "We employ 38 people across the studio in Harrow Lane and the warehouse in Leeds.",
        "Ask the Practice Manager before you book leave.",
    ],
)
def test_it_does_not_take_common_words_products_or_other_languages_for_names(scanner, text):
    assert "PERSON" not in {entity for entity, _, _ in findings(scanner, text)}


@pytest.mark.parametrize(
    "text, name",
    [
        ("who approved rut nordström's expense claim", "rut nordström"),
        ("Applicant: Nowak, Anna; branch: payroll.", "Nowak, Anna"),
    ],
)
def test_it_finds_names_with_a_possessive_and_surname_first(scanner, text, name):
    people = [(entity, start, end) for entity, start, end in findings(scanner, text) if entity == "PERSON"]

    assert ("PERSON", *span(text, name)) in people


def test_it_keeps_a_social_security_number_that_also_passes_for_a_phone_number(scanner):
    text = "His social security number is 498-50-6383, per the onboarding form."

    assert ("US_SSN", *span(text, "498-50-6383")) in findings(scanner, text)


def test_it_finds_a_first_name_alone_but_not_a_place_that_is_also_a_name(scanner):
    text = "Nicole approved the change request; what are our sales in Georgia?"

    found = findings(scanner, text)

    assert ("PERSON", *span(text, "Nicole")) in found
    assert ("LOCATION", *span(text, "Georgia")) in found and ("PERSON", *span(text, "Georgia")) not in found
