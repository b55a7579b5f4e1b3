"""Generate the PII evaluation sets (pii_test.jsonl, pii_dev.jsonl) from hand-written templates and Faker.

Each line is one sentence that a bank or hospital analyst might type into the question box, with the
personal data in it labelled by character span (Python string indices, i.e. code points):

    {"text": ..., "entities": [{"type": "PERSON", "start": 10, "end": 18}], "locale": "de_DE",
     "template": "refund_payee:PERSON.title_full+IBAN_CODE.spaced"}

Why it is built this way:
- The values come from Faker with fixed seeds and a frozen clock (GENERATED_AS_OF), so no real
  person's data is in the repo and the files can be rebuilt byte for byte on any day
  (tests/test_screening_datasets.py checks that).
- The `template` field names the scenario and the format of every value (e.g. PHONE_NUMBER.intl_noctx:
  a +CC number with no context word around it), so an evaluation can break recall down by format.
- Spans are computed while the sentence is assembled and checked with text[start:end] == value.
- Only the types in ENTITY_TYPES are labelled. Dates, organisations and URLs in a sentence are not
  PII for this set; an evaluation should ignore findings of other types.
- A title ("Dr.", "Mrs.") is not part of a PERSON span: the name identifies the person, not the title.

Usage: .venv/bin/python guardrails/evaluation/generate_pii_set.py [--out DIR]
(default DIR: guardrails/evaluation/data). Prints counts per entity type and per format.
"""
import argparse
import json
import random
import re
import string
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import faker
import time_machine
from faker import Faker

FAKER_VERSION = "40.54.0"  # other versions draw other values: the committed files would not reproduce

# The clock the sets are generated under. Faker draws birth dates back from "now": the PESEL, the
# Finnish HETU and the Swedish personnummer encode one, so with the real clock the same seed gave
# other ids from one day to the next. 2026-11-24 is the day the committed files were generated
# (any time that day rebuilds them); noon, and the zone as a ZoneInfo so that time-machine also sets
# the local time zone: fi_FI and sv_SE read the local date, not the UTC one.
GENERATED_AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("UTC"))

DEFAULT_OUT = Path(__file__).resolve().parent / "data"

# split name -> (seed, number of sentences)
SPLITS = {"test": (7201, 1200), "dev": (7202, 300)}

LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "fi_FI", "sv_SE", "en_IE", "en_IN", "en_AU",
)

ENTITY_TYPES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "ES_NIF",
    "IT_FISCAL_CODE", "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "UK_NHS",
    "LOCATION",
)

# Which locales may supply a value of each type. Faker falls back to other countries' providers for
# some locales, and we leave those out so that the locale field tells the truth:
# - en_IE has no phone provider of its own (it gives US numbers), and es_ES writes every number
#   with +34, so it supplies no national format;
# - en_US, sv_SE, en_IN and en_AU give British IBANs;
# - en_US, en_GB, fr_FR, en_IE and en_AU make city names up ("Port Kelly"), which no NER model could
#   know; the other locales pick real towns.
PHONE_LOCALES = tuple(locale for locale in LOCALES if locale != "en_IE")
NATIONAL_PHONE_LOCALES = tuple(locale for locale in PHONE_LOCALES if locale != "es_ES")
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "fi_FI", "en_IE")
CITY_LOCALES = ("de_DE", "es_ES", "it_IT", "nl_NL", "pl_PL", "fi_FI", "sv_SE", "en_IN")
LOCALES_BY_TYPE = {
    "PHONE_NUMBER": PHONE_LOCALES,
    "IBAN_CODE": IBAN_LOCALES,
    "LOCATION": CITY_LOCALES,
    "US_SSN": ("en_US",),
    "ES_NIF": ("es_ES",),
    "IT_FISCAL_CODE": ("it_IT",),
    "PL_PESEL": ("pl_PL",),
    "FI_PERSONAL_IDENTITY_CODE": ("fi_FI",),
    "SE_PERSONNUMMER": ("sv_SE",),
    "NL_BSN": ("nl_NL",),
    "FR_NIR": ("fr_FR",),
    "UK_NHS": ("en_GB",),
}

# Words that make a phone number (and an SSN) more credible to a recognizer when they come shortly
# before it: Presidio's own list plus the ones guardrails/pii.py adds. Recognizers match them as
# substrings of words ("phoned", "called"), so a *_noctx sentence must contain none of them anywhere.
CONTEXT_WORDS = {
    "PHONE_NUMBER": (
        "phone", "telephone", "tel", "cell", "mobile", "number", "call", "fax", "contact", "dial", "whatsapp",
        "hotline",
    ),
    "US_SSN": ("social", "security", "ssn", "ssid"),
}
CONTEXT_WINDOW_WORDS = 5  # a *_ctx sentence has a context word among the 5 words before the value

TITLES = ("Dr.", "Dr", "Prof.", "Mr.", "Mrs.", "Ms.", "Mx.")

# Hand-written fillers for the placeholders in lower case: they carry no PII.
FILLERS = {
    "doc": ("loan", "mortgage", "claims", "payroll", "procurement", "patient transport", "grant", "tenancy"),
    "dept": (
        "Finance", "Radiology", "Facilities", "Retail Banking", "Housing Services", "IT Operations",
        "Procurement", "Internal Audit", "Pharmacy",
    ),
    "quarter": ("Q1", "Q2", "Q3", "Q4"),
    "drug": ("metformin", "apixaban", "gabapentin", "vancomycin", "enoxaparin", "allopurinol", "digoxin"),
}

# The templates. {TYPE.format} is a labelled value, {word} a filler without PII. The scenario names
# are ours; the script appends the formats to make the `template` field.
TEMPLATES = (
    # one entity
    ("complaint_search", "Find every complaint letter that mentions {PERSON.full}."),
    ("claim_history", "Summarise the claim history for {PERSON.title_full} before the renewal meeting."),
    ("sanctions_check", "Has {PERSON.middle_initial} been cleared by the sanctions screening team?"),
    ("signoff_lower", "which supplier contracts did {PERSON.lower} sign off last year"),
    ("discharge_summary", "Show me the discharge summary written for {PERSON.title_last} on ward 7."),
    ("escalation_mailbox", "Is {EMAIL_ADDRESS.plain} still the escalation address for the cleaning contract?"),
    ("mailbox_owner", "Who owns the mailbox {EMAIL_ADDRESS.plain}? It appears in three expense claims."),
    ("dispute_branch", "The customer's mobile is {PHONE_NUMBER.national_ctx}; which branch handled the dispute?"),
    (
        "blocked_card_recording",
        "Please check the recording of the call from {PHONE_NUMBER.intl_ctx} about the blocked card.",
    ),
    ("pager_ward", "Which ward was paged from {PHONE_NUMBER.national_noctx} during the night shift?"),
    (
        "embassy_switchboard",
        "A letter from the embassy lists {PHONE_NUMBER.intl_noctx} as the switchboard; is that in our vendor file?",
    ),
    ("depot_line", "Is {PHONE_NUMBER.national_noctx} the out-of-hours line for the pharmacy depot?"),
    (
        "spoofed_bank",
        "A client says they were called by {PHONE_NUMBER.intl_ctx} by someone posing as the bank; is this in "
        "the fraud bulletin?",
    ),
    ("refund_account", "Is {IBAN_CODE.compact} the account we refunded in March?"),
    ("payment_instruction", "The payment instruction says {IBAN_CODE.spaced}; does it match the supplier master data?"),
    ("declined_card", "Why was the card {CREDIT_CARD.compact} declined at the pharmacy kiosk?"),
    ("chargeback_clause", "Chargeback request for card {CREDIT_CARD.spaced}: which policy clause applies?"),
    ("payroll_exception", "Check whether SSN {US_SSN.dashed_ctx} appears in the 2023 payroll exceptions."),
    ("w2_mismatch", "The employee record lists {US_SSN.dashed_noctx} but the W-2 shows another one; which is right?"),
    ("vpn_login", "Which user logged in from {IP_ADDRESS.v4} after midnight according to the VPN audit?"),
    ("firewall_flag", "The firewall report flags {IP_ADDRESS.v6}; is that one of our branch routers?"),
    ("notary_deed", "Does the mortgage file for NIF {ES_NIF.plain} include the notary deed?"),
    ("employment_contract", "Find the employment contract for codice fiscale {IT_FISCAL_CODE.plain}."),
    ("pesel_policies", "Which insurance policies are linked to PESEL {PL_PESEL.plain}?"),
    ("patient_register", "Is the henkilötunnus {FI_PERSONAL_IDENTITY_CODE.plain} in the patient register extract?"),
    ("benefit_claims", "Look up personnummer {SE_PERSONNUMMER.plain} in the benefit claims."),
    ("tax_forms", "The BSN {NL_BSN.plain} appears on two tax forms; which one is current?"),
    ("sick_leave_nir", "Retrieve the sick-leave certificates filed under NIR {FR_NIR.plain}."),
    ("nhs_medication", "What medication was prescribed to NHS number {UK_NHS.spaced} in the last admission?"),
    ("nhs_follow_up", "Patient {UK_NHS.compact} missed two follow-ups; what does the clinical guideline say?"),
    ("branch_count", "How many branches do we still run in {LOCATION.city}?"),
    ("flood_claims", "Summarise the flood claims from {LOCATION.city} in the last quarter."),
    # two entities
    ("audit_findings", "Forward the audit findings to {PERSON.full} at {EMAIL_ADDRESS.plain}."),
    ("test_results", "{PERSON.title_full} asked to be phoned on {PHONE_NUMBER.national_ctx} about the test results."),
    (
        "reachable_before_noon",
        "{PERSON.full} can be reached at {PHONE_NUMBER.intl_noctx} before noon; what should I ask about the arrears?",
    ),
    (
        "settlement_account",
        "Did we pay the settlement to {PERSON.middle_initial} on {IBAN_CODE.spaced} or to the old account?",
    ),
    ("change_of_address", "{PERSON.full} moved to {LOCATION.city}; which forms need updating?"),
    ("disputed_charge", "{PERSON.lower} disputes a charge on card {CREDIT_CARD.compact}, what's the procedure"),
    ("applicant_match", "Verify that {PERSON.full} and SSN {US_SSN.dashed_ctx} belong to the same applicant."),
    ("login_alerts", "Login alerts for {EMAIL_ADDRESS.plain} came from {IP_ADDRESS.v4}; is this in the incident log?"),
    ("referral_letter", "Referral letter for {PERSON.title_full}, NHS {UK_NHS.dashed}: which clinic is it routed to?"),
    ("refused_loan", "{PERSON.full}, PESEL {PL_PESEL.plain}, applied for a loan twice. Why was it refused?"),
    ("guarantee_signature", "Did {PERSON.title_last} (NIF {ES_NIF.plain}) sign the guarantee?"),
    ("sick_days", "Show the sick-leave days of {PERSON.full}, HETU {FI_PERSONAL_IDENTITY_CODE.plain}."),
    ("open_case", "Does {PERSON.middle_initial} with personnummer {SE_PERSONNUMMER.plain} have an open case?"),
    ("subject_access", "{PERSON.full} (BSN {NL_BSN.plain}) asked for a copy of their file under GDPR article 15."),
    ("cpam_form", "The CPAM form for {PERSON.title_full} shows NIR {FR_NIR.plain}; is it complete?"),
    ("account_opening", "{PERSON.full} - codice fiscale {IT_FISCAL_CODE.plain} - which branch opened the account?"),
    (
        "vendor_onboarding",
        "Write to {EMAIL_ADDRESS.plain} or phone {PHONE_NUMBER.intl_ctx} for vendor onboarding; where is "
        "that in the procedure?",
    ),
    ("transfer_origin", "A transfer to {IBAN_CODE.compact} was initiated from {LOCATION.city}; should it be flagged?"),
    ("password_reset", "Who used {IP_ADDRESS.v6} to reset the password of {EMAIL_ADDRESS.plain}?"),
    ("loan_offer_text", "Text {PERSON.full} at {PHONE_NUMBER.national_noctx} when the loan offer is ready."),
    # three entities
    (
        "new_supplier_contact",
        "New supplier: {PERSON.full}, {EMAIL_ADDRESS.plain}, tel. {PHONE_NUMBER.national_ctx}. Which "
        "framework agreement covers them?",
    ),
    (
        "refund_payee",
        "{PERSON.title_full} from {LOCATION.city} wants refunds paid to {IBAN_CODE.spaced}; what checks apply?",
    ),
    (
        "card_abroad",
        "Card {CREDIT_CARD.spaced} of {PERSON.full} was used abroad; customer mobile "
        "{PHONE_NUMBER.intl_ctx}. Summarise the fraud procedure.",
    ),
    (
        "background_check",
        "{PERSON.middle_initial}, SSN {US_SSN.dashed_ctx}, email {EMAIL_ADDRESS.plain}: is the background "
        "check finished?",
    ),
    (
        "gp_practice",
        "{PERSON.title_last} (NHS {UK_NHS.spaced}) can be called on {PHONE_NUMBER.national_ctx}; which GP "
        "practice are they with?",
    ),
    (
        "remote_access",
        "{PERSON.lower} logged in from {IP_ADDRESS.v4} while on leave in {LOCATION.city}, does the remote "
        "access policy allow that?",
    ),
    # no PII at all; some carry numbers that look like phone numbers or ids
    ("none_retention", "What is the retention period for closed {doc} files in {dept}?"),
    ("none_purchase_order", "Purchase order {po} was approved twice; which approval step failed?"),
    ("none_overspend", "Why did {dept} overspend by EUR {amount} in {quarter}?"),
    ("none_invoice", "Is invoice INV-{year}-{serial} covered by the framework agreement?"),
    ("none_remote_work", "Which section of the {doc} policy covers remote work for {dept} staff?"),
    ("none_ticket", "Summarise ticket {ticket} and its root cause analysis."),
    ("none_dose", "What {drug} dose does the guideline recommend for patients over {age} with renal impairment?"),
)

PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)(?:\.([a-z0-9_]+))?\}")


@dataclass(frozen=True)
class Value:
    """What a placeholder becomes: unlabelled text before the value (a title), and the value."""

    value: str
    prefix: str = ""


# ---------------------------------------------------------------------------------------------
# Values. Each function takes the locale's seeded Faker and the split's random.Random.
# ---------------------------------------------------------------------------------------------

def person(fake: Faker, rng: random.Random, form: str) -> Value:
    """A name from the locale's first and last names, written the ways analysts write names."""
    first, last = fake.first_name(), fake.last_name()
    if form == "full":
        return Value(f"{first} {last}")
    if form == "title_full":
        return Value(f"{first} {last}", prefix=rng.choice(TITLES) + " ")
    if form == "title_last":
        return Value(last, prefix=rng.choice(TITLES) + " ")
    if form == "middle_initial":
        return Value(f"{first} {rng.choice(string.ascii_uppercase)}. {last}")
    if form == "lower":
        return Value(f"{first} {last}".lower())
    raise ValueError(f"unknown PERSON format {form}")


def email(fake: Faker, rng: random.Random) -> Value:
    return Value(fake.email() if rng.random() < 0.5 else fake.free_email())


def phone(fake: Faker, form: str) -> Value:
    """A Faker number of the locale: national (no +CC, no 00 prefix) or international (+CC).

    Numbers with an extension ("x1234", frequent in en_US) are skipped: where such a span ends is
    a matter of taste, and the set should measure recall, not argue about boundaries.
    """
    international = form.startswith("intl")
    for _ in range(500):
        number = fake.phone_number()
        if "x" in number.lower():
            continue
        if international and "+" in number:
            return Value(number)
        if not international and "+" not in number and not number.startswith("00"):
            return Value(number)
    raise RuntimeError(f"Faker gave no {form} phone number for {fake.locales}")


def iban(fake: Faker, form: str) -> Value:
    """Faker's IBAN of the locale's country, as stored (compact) or printed (groups of 4)."""
    number = fake.iban()
    assert iban_is_valid(number), number
    if form == "spaced":
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return Value(number)


def iban_is_valid(number: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    rearranged = number[4:] + number[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def credit_card(fake: Faker, form: str) -> Value:
    """Faker's card number (any brand), compact or grouped as printed on the card."""
    number = fake.credit_card_number()
    assert luhn_is_valid(number), number
    if form == "spaced":
        amex = len(number) == 15 and number[:2] in ("34", "37")
        groups = (4, 6, 5) if amex else (4,) * (len(number) // 4) + ((len(number) % 4,) if len(number) % 4 else ())
        parts, position = [], 0
        for size in groups:
            parts.append(number[position : position + size])
            position += size
        number = " ".join(parts)
    return Value(number)


def luhn_is_valid(number: str) -> bool:
    digits = [int(char) for char in number if char.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def nhs_number(rng: random.Random, form: str) -> Value:
    """A valid NHS number: 9 digits and the modulus 11 check digit (Faker has no NHS provider).

    Weights 10 down to 2; check = 11 - (sum mod 11), 11 becomes 0, and 10 means the 9 digits
    cannot be used, so we draw again.
    """
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(digit * (10 - index) for index, digit in enumerate(digits)) % 11
        if check == 11:
            check = 0
        if check != 10:
            break
    number = "".join(map(str, digits)) + str(check)
    if form == "spaced":
        return Value(f"{number[:3]} {number[3:6]} {number[6:]}")
    if form == "dashed":
        return Value(f"{number[:3]}-{number[3:6]}-{number[6:]}")
    return Value(number)


def entity_value(entity_type: str, form: str, fake: Faker, rng: random.Random) -> Value:
    """The value of one {TYPE.format} placeholder."""
    if entity_type == "PERSON":
        return person(fake, rng, form)
    if entity_type == "EMAIL_ADDRESS":
        return email(fake, rng)
    if entity_type == "PHONE_NUMBER":
        return phone(fake, form)
    if entity_type == "IBAN_CODE":
        return iban(fake, form)
    if entity_type == "CREDIT_CARD":
        return credit_card(fake, form)
    if entity_type == "IP_ADDRESS":
        return Value(fake.ipv4() if form == "v4" else fake.ipv6())
    if entity_type == "LOCATION":
        return Value(fake.city())
    if entity_type == "UK_NHS":
        return nhs_number(rng, form)
    if entity_type == "ES_NIF":
        return Value(fake.nif())
    if entity_type == "PL_PESEL":
        return Value(fake.pesel())
    # US_SSN, IT_FISCAL_CODE, FI_PERSONAL_IDENTITY_CODE, SE_PERSONNUMMER, NL_BSN, FR_NIR: each is the
    # ssn() of the one locale allowed for it (LOCALES_BY_TYPE).
    return Value(fake.ssn())


def filler(name: str, rng: random.Random) -> str:
    """A value for a lower-case placeholder: words from FILLERS, or numbers that are not PII."""
    if name in FILLERS:
        return rng.choice(FILLERS[name])
    if name == "po":
        return "45" + "".join(rng.choice(string.digits) for _ in range(8))
    if name == "amount":
        return f"{rng.randrange(2, 900)},{rng.randrange(1000):03d}"
    if name == "year":
        return str(rng.randrange(2019, 2026))
    if name == "serial":
        return f"{rng.randrange(100000):05d}"
    if name == "ticket":
        return "INC" + f"{rng.randrange(10**7):07d}"
    if name == "age":
        return str(rng.randrange(60, 86, 5))
    raise ValueError(f"no filler for {{{name}}}")


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------

def template_locales(pattern: str) -> tuple[str, ...]:
    """The locales that can supply every value in PATTERN (in LOCALES order)."""
    allowed = set(LOCALES)
    for entity_type, form in entity_placeholders(pattern):
        allowed &= set(value_locales(entity_type, form))
    return tuple(locale for locale in LOCALES if locale in allowed)


def value_locales(entity_type: str, form: str) -> tuple[str, ...]:
    if entity_type == "PHONE_NUMBER" and form.startswith("national"):
        return NATIONAL_PHONE_LOCALES
    return LOCALES_BY_TYPE.get(entity_type, LOCALES)


def entity_placeholders(pattern: str) -> list[tuple[str, str]]:
    return [(name, form) for name, form in PLACEHOLDER.findall(pattern) if name.isupper()]


def template_name(scenario: str, pattern: str) -> str:
    """scenario:TYPE.format+TYPE.format, e.g. gp_practice:PERSON.title_last+UK_NHS.spaced+PHONE_NUMBER.national_ctx."""
    formats = "+".join(f"{name}.{form}" for name, form in entity_placeholders(pattern))
    return f"{scenario}:{formats}" if formats else f"{scenario}:none"


def fill(pattern: str, fake: Faker, rng: random.Random) -> tuple[str, list[dict], list[str]]:
    """The sentence, its entity spans, and the format of each entity (same order)."""
    text, entities, forms, position = "", [], [], 0
    for match in PLACEHOLDER.finditer(pattern):
        text += pattern[position : match.start()]
        name, form = match.group(1), match.group(2)
        if name.isupper():
            value = entity_value(name, form, fake, rng)
            text += value.prefix
            start = len(text)
            text += value.value
            entities.append({"type": name, "start": start, "end": len(text)})
            forms.append(form)
            assert text[start : len(text)] == value.value and value.value.strip() == value.value
        else:
            text += filler(name, rng)
        position = match.end()
    text += pattern[position:]
    return text, entities, forms


def context_claims_hold(text: str, entities: list[dict], forms: list[str]) -> bool:
    """Whether each *_ctx value has a context word just before it and a *_noctx sentence has none.

    A *_ctx failure is a mistake in the template (raised); a *_noctx failure can come from a drawn
    value, e.g. a surname containing "tel", so the caller draws again.
    """
    for entity, form in zip(entities, forms):
        words = CONTEXT_WORDS.get(entity["type"], ())
        if form.endswith("_noctx"):
            rest = (text[: entity["start"]] + " " + text[entity["end"] :]).lower()
            if any(word in rest for word in words):
                return False
        elif form.endswith("_ctx"):
            before = text[: entity["start"]].lower().split()[-CONTEXT_WINDOW_WORDS:]
            if not any(word in token for word in words for token in before):
                raise AssertionError(f"no context word before the value in {text!r}")
    return True


def sentence(scenario: str, pattern: str, fakes: dict[str, Faker], rng: random.Random, seen: set[str]) -> dict:
    """One sentence from the template, drawn again while it is a duplicate (templates without PII
    have few fillers) or breaks its context claim."""
    locale = rng.choice(template_locales(pattern))
    for _ in range(100):
        text, entities, forms = fill(pattern, fakes[locale], rng)
        if text not in seen and context_claims_hold(text, entities, forms):
            seen.add(text)
            return {"text": text, "entities": entities, "locale": locale, "template": template_name(scenario, pattern)}
    raise RuntimeError(f"could not fill {scenario} with a new sentence without stray context words")


def seeded_fakers(seed: int) -> dict[str, Faker]:
    """One Faker per locale, each with its own seed, plus two fixes without which Faker 40.54.0
    draws differently from one run to the next:
    - es_ES nif() draws from the module-level random, not from the seeded instance: we seed it too;
    - it_IT builds its city list from a set, whose order changes with PYTHONHASHSEED: we sort it.
    """
    random.seed(seed)
    fakes = {}
    for index, locale in enumerate(LOCALES):
        fakes[locale] = Faker(locale)
        fakes[locale].seed_instance(seed * 100 + index)
    addresses = fakes["it_IT"].provider("faker.providers.address")
    addresses.cities = sorted(addresses.cities)
    return fakes


def build_split(seed: int, count: int) -> list[dict]:
    """COUNT sentences: the templates in turn, so each gets the same share (give or take one).

    The first COUNT sentences of a larger split are the same, so a test can build a few.
    """
    rng = random.Random(seed)
    with time_machine.travel(GENERATED_AS_OF, tick=False):
        fakes = seeded_fakers(seed)
        seen: set[str] = set()
        return [sentence(*TEMPLATES[i % len(TEMPLATES)], fakes, rng, seen) for i in range(count)]


def check_templates() -> None:
    """Fail early on a template naming an unknown type or one no locale can fill."""
    for scenario, pattern in TEMPLATES:
        for name, _form in entity_placeholders(pattern):
            assert name in ENTITY_TYPES, f"{scenario}: unknown type {name}"
        assert template_locales(pattern), f"{scenario}: no locale supplies all its values"
    assert len({scenario for scenario, _ in TEMPLATES}) == len(TEMPLATES), "scenario names must be unique"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


def print_counts(split: str, rows: list[dict]) -> None:
    """Counts for the README: sentences, entities per type, values per format."""
    types = Counter(entity["type"] for row in rows for entity in row["entities"])
    formats = Counter(part for row in rows for part in row["template"].split(":")[1].split("+") if part != "none")
    sizes = Counter(len(row["entities"]) for row in rows)
    print(f"pii_{split}: {len(rows)} sentences, {len(TEMPLATES)} templates, "
          f"entities per sentence: {dict(sorted(sizes.items()))}")
    for entity_type in ENTITY_TYPES:
        print(f"  {entity_type:27} {types[entity_type]:4}")
    print("  by format: " + ", ".join(f"{name} {formats[name]}" for name in sorted(formats)))
    locales = Counter(row["locale"] for row in rows)
    print("  by locale: " + ", ".join(f"{locale} {locales[locale]}" for locale in LOCALES))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for pii_test.jsonl and pii_dev.jsonl")
    args = parser.parse_args(argv)
    if faker.VERSION != FAKER_VERSION:
        sys.exit(f"Faker {FAKER_VERSION} is needed to reproduce the committed files, found {faker.VERSION}")
    check_templates()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, (seed, count) in SPLITS.items():
        rows = build_split(seed, count)
        write_jsonl(args.out / f"pii_{split}.jsonl", rows)
        print_counts(split, rows)


if __name__ == "__main__":
    main()
