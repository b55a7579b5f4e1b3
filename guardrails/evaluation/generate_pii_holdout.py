"""Generate the held-back PII set (pii_holdout.jsonl): new templates, a new seed, more locales.

Written for issue 13 *before* any recognizer was tuned, and never used to tune one: it is read only
to report. It differs from pii_dev/pii_test (generate_pii_set.py) on purpose, in the ways those two
sets are easy:

- its own 60 templates, none shared with dev/test, half of them statements and messages rather
  than questions ("My name is ...", an e-mail signature, a note from a call), as labelled PII
  corpora are;
- 44 Faker locales instead of 13, among them names in Cyrillic, Greek, Arabic, Hebrew, Devanagari,
  Thai, Chinese, Japanese and Korean script, and Latin names with diacritics (Czech, Hungarian,
  Turkish, Romanian, Vietnamese, the Nordic and Baltic languages);
- names written in lower case, first name only, "Surname, First", and in their own script;
- phone numbers in the locale's national format, with and without a context word;
- street addresses (labelled LOCATION, as Presidio has no ADDRESS type), not only city names.

Lines have the same fields as pii_dev/pii_test (README.md there), with one more in `template`
formats: e.g. PERSON.native, PERSON.lower, LOCATION.address. Deterministic: a fixed seed, one
Faker per locale seeded from it, and the clock frozen at GENERATED_AS_OF (Faker draws birth dates
back from today).

Usage: .venv/bin/python guardrails/evaluation/generate_pii_holdout.py [--out DIR]
"""
import argparse
import random
import re
import string
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import faker
import time_machine
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_pii_set import (  # noqa: E402  (a sibling script, not a package)
    FAKER_VERSION, PLACEHOLDER, Value, context_claims_hold, credit_card, entity_placeholders, iban, nhs_number,
    write_jsonl,
)

GENERATED_AS_OF = datetime(2026, 12, 2, 12, 0, tzinfo=ZoneInfo("UTC"))
DEFAULT_OUT = Path(__file__).resolve().parent / "data"
SEED, COUNT = 7313, 1200
FILENAME = "pii_holdout.jsonl"

# Names written in their own script; Chinese, Japanese and Korean ones without a space between
# surname and given name, surname first, as they are written.
NATIVE_SCRIPT_LOCALES = ("ru_RU", "uk_UA", "bg_BG", "el_GR", "ar_AA", "he_IL", "hi_IN", "th_TH", "zh_CN", "ja_JP", "ko_KR")
SURNAME_FIRST_UNSPACED = ("zh_CN", "ja_JP", "ko_KR")
LATIN_LOCALES = (
    "en_US", "en_GB", "en_CA", "en_NZ", "en_IE", "en_AU", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CA", "es_ES",
    "es_MX", "pt_PT", "pt_BR", "it_IT", "nl_NL", "pl_PL", "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "hr_HR", "sl_SI",
    "tr_TR", "da_DK", "no_NO", "sv_SE", "fi_FI", "et_EE", "lv_LV", "lt_LT", "vi_VN",
)
LOCALES = LATIN_LOCALES + NATIVE_SCRIPT_LOCALES

# Locales whose Faker phone numbers are of that country (en_IE, fr_CA, et_EE and ar_AA fall back to
# US numbers; es_MX and en_CA give a few malformed +CC numbers): national ones (no + or 00) and
# international ones (+CC), each among 200 draws at least 20 times.
NATIONAL_PHONE_LOCALES = (
    "en_US", "en_GB", "en_AU", "en_NZ", "de_DE", "de_AT", "de_CH", "fr_FR", "it_IT", "nl_NL", "pl_PL", "hu_HU",
    "ro_RO", "hr_HR", "sl_SI", "tr_TR", "da_DK", "no_NO", "sv_SE", "fi_FI", "pt_PT", "pt_BR", "vi_VN", "ru_RU",
    "uk_UA", "bg_BG", "el_GR", "he_IL", "hi_IN", "th_TH", "zh_CN", "ja_JP", "ko_KR",
)
INTL_PHONE_LOCALES = (
    "en_GB", "en_NZ", "en_AU", "de_DE", "de_AT", "de_CH", "fr_FR", "es_ES", "pt_PT", "pt_BR", "it_IT", "nl_NL",
    "pl_PL", "cs_CZ", "sk_SK", "hu_HU", "tr_TR", "da_DK", "no_NO", "sv_SE", "fi_FI", "lv_LV", "lt_LT", "vi_VN",
    "ru_RU", "uk_UA", "bg_BG", "el_GR", "hi_IN", "th_TH",
)
IBAN_LOCALES = (
    "en_GB", "de_DE", "de_AT", "de_CH", "fr_FR", "es_ES", "pt_PT", "it_IT", "nl_NL", "pl_PL", "cs_CZ", "sk_SK",
    "hu_HU", "ro_RO", "hr_HR", "sl_SI", "tr_TR", "da_DK", "no_NO", "fi_FI", "et_EE", "lv_LV", "lt_LT",
)
# Locales whose address provider writes real-looking streets and towns of that country in Latin script.
ADDRESS_LOCALES = (
    "en_US", "en_GB", "de_DE", "de_AT", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "cs_CZ", "da_DK", "no_NO",
    "sv_SE", "fi_FI", "pt_PT", "pt_BR", "hu_HU",
)

ENTITY_TYPES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "UK_NHS", "LOCATION",
)

FILLERS = {
    "topic": (
        "overtime", "parental leave", "the travel policy", "the data retention schedule", "vendor due diligence",
        "the new expense rules", "sick pay", "remote work", "the cloud migration", "the fire drill",
    ),
    "product": (
        "savings account", "home insurance", "business loan", "pension plan", "travel card", "car lease",
        "student loan", "health plan", "fixed-rate bond", "debit card",
    ),
    "unit": (
        "cardiology", "the credit desk", "payroll", "the help desk", "claims handling", "the archive",
        "procurement", "the legal team", "facilities", "treasury", "internal audit", "radiology",
    ),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
}

# {TYPE.format}: a labelled value; {word}: a filler without PII.
TEMPLATES = (
    # statements, as in labelled PII corpora
    ("intro_name", "My name is {PERSON.full} and I am writing about my {product}."),
    ("intro_lower", "hi, this is {PERSON.lower}, i need help with my {product}"),
    ("intro_native", "Hello, my name is {PERSON.native}. Can someone explain {topic} to me?"),
    ("signature", "Kind regards, {PERSON.full} | {unit} | {EMAIL_ADDRESS.plain}"),
    ("signature_phone", "Best wishes,\n{PERSON.full}\nMobile: {PHONE_NUMBER.intl_ctx}"),
    ("lives_at", "{PERSON.first} lives at {LOCATION.address}."),
    ("moved_address", "Please note my new address: {LOCATION.address}."),
    ("call_note", "Note from {weekday}: {PERSON.full} asked to be phoned on {PHONE_NUMBER.national_ctx} about {topic}."),
    ("callback", "could you call me back on {PHONE_NUMBER.national_ctx} please, it's about my {product}"),
    ("reach_me", "You can reach me on {PHONE_NUMBER.national_noctx} most afternoons."),
    ("intl_reach", "{PERSON.full} is reachable on {PHONE_NUMBER.intl_noctx} while abroad."),
    ("card_statement", "My credit card number is {CREDIT_CARD.spaced} and the charge is wrong."),
    ("card_compact", "The card ending in the number {CREDIT_CARD.compact} was stolen last week."),
    ("salary_account", "Please pay my salary into {IBAN_CODE.spaced} from next month."),
    ("iban_compact", "Refund to {IBAN_CODE.compact}, account holder {PERSON.full}."),
    ("ssn_statement", "His social security number is {US_SSN.dashed_ctx}, per the onboarding form."),
    ("server_ip", "The request came from {IP_ADDRESS.v4} at 02:14."),
    ("nhs_letter", "Dear {PERSON.title_last}, your NHS number is {UK_NHS.spaced}."),
    ("first_only", "{PERSON.first} approved the change request yesterday."),
    ("first_lower", "ask {PERSON.first_lower} in {unit} whether the form was signed"),
    ("surname_first", "Applicant: {PERSON.last_first}; branch: {unit}."),
    ("colleague", "My colleague {PERSON.full} will cover {unit} while I am away."),
    ("patient_lower", "patient {PERSON.lower} was discharged on {weekday}"),
    ("native_email", "{PERSON.native} wrote from {EMAIL_ADDRESS.plain} about {topic}."),
    ("diacritics", "The contract was countersigned by {PERSON.full} of the {unit} team."),
    ("two_people", "{PERSON.full} and {PERSON.full} share the {unit} rota."),
    ("city_office", "Our office in {LOCATION.city} closes early on {weekday}."),
    ("visit_city", "{PERSON.full} from {LOCATION.city} visited {unit} on {weekday}."),
    # questions, as analysts type them
    ("who_is", "Who is {PERSON.full} and why are they on the escalation list?"),
    ("who_lower", "who approved {PERSON.lower}'s expense claim"),
    ("native_question", "Did {PERSON.native} receive the {product} offer?"),
    ("native_lower_q", "what did {PERSON.native} say about {topic}?"),
    ("email_question", "Which tickets were opened by {EMAIL_ADDRESS.plain}?"),
    ("address_question", "Is {LOCATION.address} still the billing address on file?"),
    ("phone_question", "Who does {PHONE_NUMBER.national_noctx} belong to?"),
    ("intl_question", "Is the phone number {PHONE_NUMBER.intl_ctx} still the Lisbon office?"),
    ("mr_question", "Has Mr {PERSON.last} returned the signed form?"),
    ("title_lower", "has dr {PERSON.last_lower} signed the discharge letter"),
    ("iban_question", "Which supplier uses {IBAN_CODE.spaced}?"),
    ("card_question", "Was {CREDIT_CARD.compact} used at more than one merchant?"),
    ("ssn_question", "Which file has {US_SSN.dashed_noctx} in it?"),
    ("ip_question", "What does the proxy log say about {IP_ADDRESS.v6}?"),
    ("combo_question", "{PERSON.full}, {EMAIL_ADDRESS.plain}, tel {PHONE_NUMBER.intl_ctx}: is this the same customer?"),
    ("lower_combo", "{PERSON.lower} at {LOCATION.address}, is she still a client"),
    ("native_phone", "{PERSON.native} left {PHONE_NUMBER.intl_noctx} as the way to reach them; who handles it?"),
    ("city_lower", "how many claims came from {LOCATION.city_lower} this year"),
    # no PII: words that are also names, places and dates in plain business questions
    ("none_will", "Will the new rules on {topic} apply to {unit}?"),
    ("none_may", "May we share the audit summary with {unit} before {weekday}?"),
    ("none_bill", "Who has to approve a bill for {topic} over the limit in {unit}?"),
    ("none_grant", "Can we grant read access to {unit} for the {product} files?"),
    ("none_mark", "Mark the {product} complaints as resolved once {unit} has replied."),
    ("none_europe", "Which of our {product} offers are available across Europe through {unit}?"),
    ("none_cet", "The support desk opens at 09:00 CET on {weekday}; does {unit} follow the same hours?"),
    ("none_rose", "Sales rose by 4% in Q3; what does the board pack say about {product} in {unit}?"),
    ("none_faith", "Is the good faith clause in the {product} terms still valid for {unit}?"),
    ("none_hope", "We hope to close the {product} review by {weekday}; who is blocking it?"),
    ("none_lower", "what is the policy on {topic} for part-time staff in {unit}"),
    ("none_codes", "Ticket {ticket} about {topic} was reopened; why?"),
    ("none_amount", "Why did {unit} spend EUR {amount} on temps in March?"),
    ("none_nationality", "Do German and French customers get the same {product} terms from {unit}?"),
)


def person(fake: Faker, locale: str, rng: random.Random, form: str) -> Value:
    """A name from the locale's lists, written the way FORM says."""
    first, last = fake.first_name(), fake.last_name()
    if form == "full":
        return Value(f"{first} {last}")
    if form == "lower":
        return Value(f"{first} {last}".lower())
    if form == "first":
        return Value(first)
    if form == "first_lower":
        return Value(first.lower())
    if form == "last":
        return Value(last)
    if form == "last_lower":
        return Value(last.lower())
    if form == "last_first":
        return Value(f"{last}, {first}")
    if form == "title_last":
        return Value(last, prefix=rng.choice(("Mr ", "Mrs ", "Ms ", "Dr ")))
    if form == "native":
        return Value(f"{last}{first}" if locale in SURNAME_FIRST_UNSPACED else f"{first} {last}")
    raise ValueError(f"unknown PERSON format {form}")


def phone(fake: Faker, form: str) -> Value:
    """A Faker number of the locale, national (no + or 00) or international (+CC), no extension."""
    international = form.startswith("intl")
    for _ in range(500):
        number = fake.phone_number()
        if "x" in number.lower() or "ext" in number.lower():
            continue
        if international and number.startswith("+"):
            return Value(number)
        if not international and "+" not in number and not number.startswith("00"):
            return Value(number)
    raise RuntimeError(f"Faker gave no {form} phone number for {fake.locales}")


def address(fake: Faker) -> Value:
    """A street address on one line: street and number, postcode and town."""
    return Value(re.sub(r"\s*\n\s*", ", ", fake.address().strip()))


def email(fake: Faker, rng: random.Random) -> Value:
    return Value(fake.email() if rng.random() < 0.5 else fake.free_email())


def entity_value(entity_type: str, form: str, fake: Faker, locale: str, rng: random.Random) -> Value:
    if entity_type == "PERSON":
        return person(fake, locale, rng, form)
    if entity_type == "EMAIL_ADDRESS":
        return email(fake, rng)
    if entity_type == "PHONE_NUMBER":
        return phone(fake, form)
    if entity_type == "IBAN_CODE":
        return iban(fake, form)
    if entity_type == "CREDIT_CARD":
        return credit_card(fake, form)
    if entity_type == "IP_ADDRESS":
        return Value(fake.ipv4_public() if form == "v4" else fake.ipv6())
    if entity_type == "UK_NHS":
        return nhs_number(rng, form)
    if entity_type == "LOCATION":
        if form == "address":
            return address(fake)
        return Value(fake.city().lower() if form == "city_lower" else fake.city())
    if entity_type == "US_SSN":
        return Value(fake.ssn())
    raise ValueError(f"unknown type {entity_type}")


def value_locales(entity_type: str, form: str) -> tuple[str, ...]:
    if entity_type == "PERSON":
        return NATIVE_SCRIPT_LOCALES if form == "native" else LATIN_LOCALES
    if entity_type == "PHONE_NUMBER":
        return NATIONAL_PHONE_LOCALES if form.startswith("national") else INTL_PHONE_LOCALES
    if entity_type == "IBAN_CODE":
        return IBAN_LOCALES
    if entity_type == "LOCATION":
        return ADDRESS_LOCALES
    if entity_type == "US_SSN":
        return ("en_US",)
    if entity_type == "UK_NHS":
        return ("en_GB",)
    return LOCALES


def template_locales(pattern: str) -> tuple[str, ...]:
    allowed = set(LOCALES)
    for entity_type, form in entity_placeholders(pattern):
        allowed &= set(value_locales(entity_type, form))
    return tuple(locale for locale in LOCALES if locale in allowed)


def filler(name: str, rng: random.Random) -> str:
    if name in FILLERS:
        return rng.choice(FILLERS[name])
    if name == "ticket":
        return "REQ-" + "".join(rng.choice(string.digits) for _ in range(6))
    if name == "amount":
        return f"{rng.randrange(2, 90)},{rng.randrange(1000):03d}"
    raise ValueError(f"no filler for {{{name}}}")


def fill(pattern: str, fake: Faker, locale: str, rng: random.Random) -> tuple[str, list[dict], list[str]]:
    text, entities, forms, position = "", [], [], 0
    for match in PLACEHOLDER.finditer(pattern):
        text += pattern[position : match.start()]
        name, form = match.group(1), match.group(2)
        if name.isupper():
            value = entity_value(name, form, fake, locale, rng)
            text += value.prefix
            start = len(text)
            text += value.value
            entities.append({"type": name, "start": start, "end": len(text)})
            forms.append(form)
            assert text[start:] == value.value and value.value.strip() == value.value
        else:
            text += filler(name, rng)
        position = match.end()
    return text + pattern[position:], entities, forms


def template_name(scenario: str, pattern: str) -> str:
    formats = "+".join(f"{name}.{form}" for name, form in entity_placeholders(pattern))
    return f"{scenario}:{formats}" if formats else f"{scenario}:none"


def sentence(scenario: str, pattern: str, fakes: dict[str, Faker], rng: random.Random, seen: set[str]) -> dict:
    locale = rng.choice(template_locales(pattern))
    for _ in range(100):
        text, entities, forms = fill(pattern, fakes[locale], locale, rng)
        if text not in seen and context_claims_hold(text, entities, forms):
            seen.add(text)
            return {"text": text, "entities": entities, "locale": locale, "template": template_name(scenario, pattern)}
    raise RuntimeError(f"could not fill {scenario} with a new sentence")


def seeded_fakers(seed: int) -> dict[str, Faker]:
    """One Faker per locale, seeded; plus the fixes generate_pii_set.seeded_fakers explains (the
    module-level random seeded, it_IT's city list sorted)."""
    random.seed(seed)
    fakes = {}
    for index, locale in enumerate(LOCALES):
        fakes[locale] = Faker(locale)
        fakes[locale].seed_instance(seed * 100 + index)
    addresses = fakes["it_IT"].provider("faker.providers.address")
    addresses.cities = sorted(addresses.cities)
    return fakes


def build(seed: int = SEED, count: int = COUNT) -> list[dict]:
    """COUNT sentences, the templates in turn."""
    rng = random.Random(seed)
    with time_machine.travel(GENERATED_AS_OF, tick=False):
        fakes = seeded_fakers(seed)
        seen: set[str] = set()
        return [sentence(*TEMPLATES[i % len(TEMPLATES)], fakes, rng, seen) for i in range(count)]


def print_counts(rows: list[dict]) -> None:
    types = Counter(entity["type"] for row in rows for entity in row["entities"])
    formats = Counter(part for row in rows for part in row["template"].split(":")[1].split("+") if part != "none")
    print(f"pii_holdout: {len(rows)} sentences, {len(TEMPLATES)} templates, {len(LOCALES)} locales")
    print("  " + ", ".join(f"{entity_type} {types[entity_type]}" for entity_type in ENTITY_TYPES))
    print("  by format: " + ", ".join(f"{name} {formats[name]}" for name in sorted(formats)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"directory for {FILENAME}")
    args = parser.parse_args(argv)
    if faker.VERSION != FAKER_VERSION:
        sys.exit(f"Faker {FAKER_VERSION} is needed to reproduce the committed file, found {faker.VERSION}")
    assert len({scenario for scenario, _ in TEMPLATES}) == len(TEMPLATES), "scenario names must be unique"
    for scenario, pattern in TEMPLATES:
        assert template_locales(pattern), f"{scenario}: no locale supplies all its values"
    args.out.mkdir(parents=True, exist_ok=True)
    rows = build()
    write_jsonl(args.out / FILENAME, rows)
    print_counts(rows)


if __name__ == "__main__":
    main()
