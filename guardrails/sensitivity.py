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
"""
from collections.abc import Iterable

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


def sensitivity_of_entities(entity_types: Iterable[str]) -> str:
    """The label a text earns from the PII entity types found in it ("public" for none)."""
    return max_sensitivity(*(ENTITY_SENSITIVITY.get(entity_type, UNKNOWN_ENTITY_LEVEL) for entity_type in entity_types))
