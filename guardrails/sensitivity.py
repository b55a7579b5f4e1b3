"""Sensitivity labels, and the label that the personal data found in a text earns it.

The four levels, lowest first: public, internal, confidential, restricted. A chunk, a document, a
collection and a question each carry one; wherever several meet, the highest wins (max_sensitivity).

How a PII entity type maps to a level (ENTITY_SENSITIVITY):

- restricted: identifiers whose leak does direct harm — payment and bank details (CREDIT_CARD,
  IBAN_CODE, US_BANK_NUMBER, CRYPTO), government-issued personal identifiers (US_SSN, US_PASSPORT,
  ES_NIF, IT_FISCAL_CODE, ... the personal ids of every country Presidio ships recognizers for, and
  those guardrails.recognizers adds: NL_BSN, FR_NIR, BE_NATIONAL_NUMBER) and health identifiers
  (UK_NHS, MEDICAL_LICENSE, health insurance and claim numbers).
- confidential: whatever identifies a person or reaches them — PERSON, EMAIL_ADDRESS,
  PHONE_NUMBER, and NRP (nationality, religious or political group).
- internal: identifiers of places and machines — LOCATION (Presidio's LOCATION is a city, country or
  landmark far more often than a street address), IP_ADDRESS, MAC_ADDRESS, UUID.
- public: DATE_TIME and URL say nothing about anyone on their own.

A type missing from the mapping counts as confidential: a recognizer added later should make us
careful until someone classifies it, not careless. Presidio's company numbers, VAT ids, vehicle
plates and postcodes are left out on purpose and so count as confidential too.

ENTITY_SENSITIVITY says how sensitive one value is on its own: the answer check withholds values
of the upper two levels, and redaction gives an overlapping span to the more sensitive type.

Which types raise the label of a chunk or a document, and to what level, is a different question,
and the compliance officer answers it in the policy (guardrails.policy, entity_labels). The shipped
answer is DEFAULT_ENTITY_LABELS: personal identifiers, contact details, financial and health data
raise it; bare places, dates, web addresses and nationalities do not (a public FAQ that names
"Europe" and "CET" stays public). explain_label() puts the reason into words for the admin.
"""
from collections.abc import Iterable, Mapping

LEVELS = ("public", "internal", "confidential", "restricted")

UNKNOWN_ENTITY_LEVEL = "confidential"

_ENTITIES_BY_LEVEL = {
    "public": ("DATE_TIME", "URL"),
    "internal": ("LOCATION", "IP_ADDRESS", "MAC_ADDRESS", "UUID"),
    "confidential": ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "NRP"),
    "restricted": (
        # money
        "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "CRYPTO",
        # health
        "UK_NHS", "MEDICAL_LICENSE", "US_MBI", "US_HEALTH_INSURANCE_MEMBER_ID", "US_CLAIM_NUMBER",
        "US_PRESCRIPTION_NUMBER", "US_PRIOR_AUTHORIZATION_NUMBER", "US_REFERRAL_NUMBER", "DE_HEALTH_INSURANCE",
        "AU_MEDICARE",
        # government-issued personal identifiers
        "US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE",
        "UK_NINO", "UK_PASSPORT", "UK_DRIVING_LICENCE",
        "ES_NIF", "ES_NIE", "ES_PASSPORT",
        "IT_FISCAL_CODE", "IT_IDENTITY_CARD", "IT_PASSPORT", "IT_DRIVER_LICENSE",
        "DE_TAX_ID", "DE_ID_CARD", "DE_PASSPORT", "DE_SOCIAL_SECURITY", "DE_FUEHRERSCHEIN",
        "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "BE_NATIONAL_NUMBER",
        "CA_SIN", "AU_TFN", "IN_AADHAAR", "IN_PAN", "IN_PASSPORT", "IN_VOTER", "SG_NRIC_FIN",
        "KR_RRN", "KR_FRN", "KR_PASSPORT", "KR_DRIVER_LICENSE", "NG_NIN", "PH_TIN", "PH_PASSPORT", "PH_UMID",
        "TH_TNIN", "TR_NATIONAL_ID", "ZA_ID_NUMBER", "ZA_PASSPORT", "ZA_DRIVER_LICENSE", "ZA_INCOME_TAX_NUMBER",
    ),
}

ENTITY_SENSITIVITY: dict[str, str] = {
    entity_type: level for level, entity_types in _ENTITIES_BY_LEVEL.items() for entity_type in entity_types
}


def max_sensitivity(*levels: str) -> str:
    """The highest of LEVELS given; "public" when none is. Raises ValueError for an unknown level."""
    for level in levels:
        if level not in LEVELS:
            raise ValueError(f"unknown sensitivity level {level!r}; expected one of: {', '.join(LEVELS)}")
    return max(levels, key=LEVELS.index, default="public")


# The label each entity type the scanner detects (guardrails.pii.SUPPORTED_ENTITIES) gives a
# passage, unless the policy says otherwise: the shipped policy's entity_labels.
DEFAULT_ENTITY_LABELS: dict[str, str] = {
    **{entity_type: "public" for entity_type in ("DATE_TIME", "URL", "LOCATION", "NRP")},
    **{entity_type: "internal" for entity_type in ("IP_ADDRESS", "MAC_ADDRESS")},
    **{entity_type: "confidential" for entity_type in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER")},
    **{
        entity_type: "restricted" for entity_type in (
            "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "CRYPTO", "UK_NHS", "MEDICAL_LICENSE",
            "US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE",
            "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "BE_NATIONAL_NUMBER",
            "DE_TAX_ID",
        )
    },
}


def sensitivity_of_entities(entity_types: Iterable[str], labels: Mapping[str, str] = DEFAULT_ENTITY_LABELS) -> str:
    """The label a text earns from the PII entity types found in it ("public" for none), by LABELS
    (entity type -> level; a type missing from it counts as UNKNOWN_ENTITY_LEVEL)."""
    return max_sensitivity(*(labels.get(entity_type, UNKNOWN_ENTITY_LEVEL) for entity_type in entity_types))


# Entity types in words, singular and plural, for explain_label(); other types are named by their code.
COUNTED_NAMES = {
    "PERSON": ("person's name", "people's names"),
    "EMAIL_ADDRESS": ("e-mail address", "e-mail addresses"),
    "PHONE_NUMBER": ("phone number", "phone numbers"),
    "IP_ADDRESS": ("IP address", "IP addresses"),
    "MAC_ADDRESS": ("MAC address", "MAC addresses"),
    "CREDIT_CARD": ("payment card number", "payment card numbers"),
    "IBAN_CODE": ("IBAN", "IBANs"),
    "US_BANK_NUMBER": ("US bank account number", "US bank account numbers"),
    "CRYPTO": ("crypto wallet address", "crypto wallet addresses"),
    "UK_NHS": ("NHS number", "NHS numbers"),
    "MEDICAL_LICENSE": ("medical licence number", "medical licence numbers"),
    "US_SSN": ("US social security number", "US social security numbers"),
    "LOCATION": ("place", "places"),
    "DATE_TIME": ("date or time", "dates or times"),
    "URL": ("web address", "web addresses"),
    "NRP": ("nationality or group", "nationalities or groups"),
}


def counted(entity_type: str, count: int) -> str:
    """"1 IBAN", "3 e-mail addresses", "2 × FR_NIR" for a type without words."""
    singular, plural = COUNTED_NAMES.get(entity_type, (None, None))
    if singular is None:
        return f"{count} × {entity_type}"
    return f"{count} {singular if count == 1 else plural}"


def explain_label(
    level: str, counts: Mapping[str, int], labels: Mapping[str, str], classification: str, policy_version: int,
) -> str:
    """Why a document with entity COUNTS in a collection of CLASSIFICATION got LEVEL under policy
    POLICY_VERSION's LABELS, e.g. "restricted because it contains 1 IBAN and 3 e-mail addresses
    (policy v4)". Types are listed most sensitive first; those that raise nothing are named apart."""
    raising = sorted(
        (entity_type for entity_type in counts if labels.get(entity_type, UNKNOWN_ENTITY_LEVEL) != "public"),
        key=lambda entity_type: (-LEVELS.index(labels.get(entity_type, UNKNOWN_ENTITY_LEVEL)), entity_type),
    )
    causes = []
    if classification != "public" and classification == level:
        causes.append(f"its collection is classified {classification}")
    if raising:
        causes.append("it contains " + joined([counted(entity_type, counts[entity_type]) for entity_type in raising]))
    if not causes:
        ignored = [counted(entity_type, counts[entity_type]) for entity_type in sorted(counts)]
        verb = "does" if list(counts.values()) == [1] else "do"
        found = f"; it contains {joined(ignored)}, which {verb} not raise it" if ignored else ""
        return f"{level}: no personal data that raises the label{found} (policy v{policy_version})"
    return f"{level} because {' and '.join(causes)} (policy v{policy_version})"


def joined(parts: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
