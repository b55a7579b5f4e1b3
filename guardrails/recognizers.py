"""Recognizers that Presidio lacks, and Presidio recognizers whose patterns or scores we change.

guardrails.pii imports this module only when a scanner builds its analyzer: presidio_analyzer pulls
in torch and transformers, and the web process never scans.

How a check digit turns into a score. A recognizer whose check passes sets the score to 1.0
(Presidio's rule for validate_result), so a match is reported without any context word. That is
right only when a made-up number rarely passes, and a number from business text is what the
pattern sees most: order, invoice and account numbers, phone numbers written without spaces.

- Reported alone (a checksum and a structure of their own; the share of random digit runs that
  pass, measured over 200,000): FI_PERSONAL_IDENTITY_CODE (date, century sign and a control
  character out of 31, in a format no other number has), BE_NATIONAL_NUMBER (date and a key out of
  97: 1 in 400 runs of 11 digits), FR_NIR (sex, month, department and a key out of 97: 1 in 180
  runs of 15 digits), SE_PERSONNUMMER (date and Luhn: 1 in 140 runs of 10 digits) and PL_PESEL
  (date and a check digit: 1 in 140 runs of 11 digits, once only births from 1900 to 2099 count).
- Reported only next to a context word (ContextRequired): NL_BSN and DE_TAX_ID are a bare run of 9
  or 11 digits with one check digit, which 1 in 11 (BSN's 11-proof) or 1 in 13 (Steuer-IdNr's
  ISO 7064 MOD 11,10) of all such runs pass. Scoring them low would not do: screening scans at
  half the policy's lowest minimum score, so some policy's floor would sit under whatever score we
  chose, and every eleventh invoice number would be reported as a citizen's id. So a match without
  "bsn", "steuer"... among the five words before it is dropped at any threshold, and one with such a
  word scores 1.0. (A BSN or Steuer-IdNr quoted bare, with no such word, is missed: the price.)

Every pattern starts and ends at a word boundary: Presidio's own PESEL and personnummer patterns
also match inside a longer run of digits (a card number, an IBAN written without spaces).
"""
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import (
    DeTaxIdRecognizer, FiPersonalIdentityCodeRecognizer, PlPeselRecognizer, SePersonnummerRecognizer,
)

LANGUAGE = "en"

# A phone number in international form, grouped as people write it: "+44 20 7946 0958",
# "+1 (201) 555-0123", "(+44) 20 7946 0958", "+44 (0)20 7946 0958", "0049 30 901820", with an
# optional extension. The quantifiers are possessive, so when the lookahead at the end rejects a
# match (an amount "+12.5%", "+1,250,000"), no shorter part of it is tried instead.
INTERNATIONAL_PHONE = re.compile(
    r"""
    (?<![\w+#/\-])(?<!\d[ .,:/\-])      # not the continuation of a word, a reference or a number
    (?P<number>
        (?:\(\+[1-9]\d{0,2}\)|\+[1-9]\d*+|00[ ]?[1-9]\d*+)     # +country code, or 00 country code
        (?:[ .\-]\d++|[ ]?\(\d{1,5}\)\d*+)*+                   # groups, each after one separator
    )
    (?P<extension>[ ]?,?[ ]?(?i:ext\.?|extension|x)[ ]?\d{1,6})?
    (?![\w%]|[,:/]\d)                   # not followed by letters, a percent sign, decimals or a time
    """,
    re.VERBOSE,
)
PHONE_DIGITS = range(7, 16)  # E.164 allows 15 digits; the shortest numbers in use have 7
PHONE_GROUP_SEPARATORS = " .-("


class InternationalPhoneRecognizer(LocalRecognizer):
    """Phone numbers written with + or 00 and a country code, found without a context word.

    Presidio's PhoneRecognizer scores every number 0.4 because almost any run of 6 to 11 digits is
    a valid national number somewhere (see guardrails.pii.PHONE_CONTEXT). A leading + and a number
    that libphonenumber validates for the country it names are much stronger evidence, so this
    recognizer scores them SCORE, over the scanner's threshold. Its span is the one PhoneRecognizer
    reports for the same number (extension included), so Presidio's remove_duplicates keeps only the
    higher-scored of the two.

    A number written with 00 must be grouped ("0044 20 7946 0958"): a bare run of digits starting
    with 00 is more often an account or invoice number. When the number as written is not valid,
    its last group or two are dropped ("+44 20 7946 0958 2 times"), as libphonenumber's matcher
    does not do.
    """

    SCORE = 0.75
    # A number that libphonenumber does not find valid, but whose length fits its country's
    # numbering plan: a number from a range not yet (or never) assigned, such as the UK's
    # 07700 900xxx kept for drama, "+44 7700 900123". Written with + and grouped, it is still a
    # phone number to whoever reads it, and spaCy takes it for a date when nobody claims it. Over
    # the default minimum score 0.5; a policy that wants only valid numbers sets PHONE_NUMBER's
    # minimum to 0.6.
    POSSIBLE_SCORE = 0.55

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "PHONE_NUMBER"):
        super().__init__(supported_entities=[supported_entity], supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        for match in INTERNATIONAL_PHONE.finditer(text):
            number, score = valid_phone_number(match["number"]), self.SCORE
            if number is None and is_possible_international_number(match["number"]):
                number, score = match["number"], self.POSSIBLE_SCORE
            if number is None:
                continue
            start = match.start("number")
            end = match.end() if number == match["number"] else start + len(number)
            results.append(self._result(start, end, score))
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.supported_entities[0], start=start, end=end, score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=score,
                textual_explanation="A valid phone number written with its country code",
            ),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )


def valid_phone_number(number: str) -> str | None:
    """NUMBER, or NUMBER without its last group or two, whichever libphonenumber finds valid first;
    None when none is, or when a 00 number is written without any separator."""
    if number.startswith("00"):
        if not any(separator in number for separator in PHONE_GROUP_SEPARATORS):
            return None
    for _ in range(3):
        if is_valid_international_number(number):
            return number
        cut = max(number.rfind(separator) for separator in PHONE_GROUP_SEPARATORS)
        if cut <= 0:
            return None
        number = number[:cut].rstrip()
    return None


def is_possible_international_number(number: str) -> bool:
    """Whether NUMBER, grouped as a phone number is ("+44 7700 900123"), has a length its country's
    numbering plan allows for a full number (not only for a local one)."""
    if number.startswith("00") or not any(separator in number for separator in PHONE_GROUP_SEPARATORS):
        return False
    if sum(character.isdigit() for character in number) not in PHONE_DIGITS:
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number_with_reason(parsed) == phonenumbers.ValidationResult.IS_POSSIBLE


def is_valid_international_number(number: str) -> bool:
    international = "+" + number[2:].lstrip() if number.startswith("00") else number
    if sum(character.isdigit() for character in international) not in PHONE_DIGITS:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(international, None))
    except phonenumbers.NumberParseException:
        return False


class ContextRequired:
    """Mixin for a PatternRecognizer whose matches count only with a context word before them.

    Presidio calls enhance_using_context on each recognizer before its own context enhancer runs.
    Here Presidio's LemmaContextAwareEnhancer (the analyzer's, with its defaults: the five words
    before the match, context words matched as substrings of their lowercase forms) looks for the
    recognizer's context words; matches without one are dropped, the others marked as enhanced so
    that the analyzer does not raise them a second time. Context words must therefore be single
    lowercase words: a phrase never matches one word.
    """

    _context_enhancer = LemmaContextAwareEnhancer()

    def enhance_using_context(
        self, text, raw_recognizer_results, other_raw_recognizer_results, nlp_artifacts, context=None,
    ) -> list[RecognizerResult]:
        enhanced = self._context_enhancer.enhance_using_context(
            text=text, raw_results=raw_recognizer_results, nlp_artifacts=nlp_artifacts, recognizers=[self],
            context=context,
        )
        kept = [result for result in enhanced if result.analysis_explanation.supportive_context_word]
        for result in kept:
            result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return kept


def digits_of(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


class NlBsnRecognizer(ContextRequired, PatternRecognizer):
    """Dutch burgerservicenummer: 9 digits, plain or as printed on ID cards ("1234.56.782"), that
    pass the 11-proof. Only next to a context word: about 1 in 11 of all 9-digit numbers pass."""

    COUNTRY_CODE = "nl"
    PATTERNS = [Pattern("BSN", r"\b\d{4}\.?\d{2}\.?\d{3}\b", 0.5)]
    # "sofi" alone is left out: it is also the start of the name Sofia.
    CONTEXT = ["bsn", "burgerservicenummer", "sofinummer", "persoonsnummer", "citizen"]

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "NL_BSN"):
        super().__init__(
            supported_entity=supported_entity, patterns=self.PATTERNS, context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        """The 11-proof: 9×d1 + 8×d2 + ... + 2×d8 − d9 is a multiple of 11 (and not all zeros)."""
        digits = [int(digit) for digit in digits_of(pattern_text)]
        if len(digits) != 9 or not any(digits):
            return False
        weighted = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits)) - digits[8]
        return weighted % 11 == 0


class DeTaxIdWithContextRecognizer(ContextRequired, DeTaxIdRecognizer):
    """Presidio's Steuer-IdNr recognizer (ISO 7064 MOD 11,10 check digit, no digit more than three
    times), but only next to a context word: about 1 in 13 of all 11-digit numbers pass. Also finds
    the grouped form on tax letters ("86 095 742 719"). Presidio's own context words include
    phrases, which never match one word; "steuer" and "tax" cover them."""

    PATTERNS = [
        Pattern("Steuer-IdNr", r"\b[1-9]\d{10}\b", 0.5),
        Pattern("Steuer-IdNr (grouped)", r"\b[1-9]\d(?: \d{3}){3}\b", 0.5),
    ]
    CONTEXT = [*DeTaxIdRecognizer.CONTEXT, "steuer", "identifikationsnummer", "tax"]

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "DE_TAX_ID"):
        super().__init__(
            patterns=self.PATTERNS, context=self.CONTEXT, supported_language=supported_language,
            supported_entity=supported_entity,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return super().validate_result(digits_of(pattern_text))


class FrNirRecognizer(PatternRecognizer):
    """French social security number (NIR, numéro INSEE): sex, year, month, department, commune,
    order and a 2-digit key, 15 characters, often grouped "2 55 08 14 168 025 38".

    The key is 97 − (the first 13 digits mod 97). Corsica's departments 2A and 2B count as 19 and
    18. Sex is 1 or 2, or 3, 4, 7, 8 for numbers given before or instead of registration; the month
    is 01 to 12, or 20 and above when unknown."""

    COUNTRY_CODE = "fr"
    PATTERNS = [
        Pattern(
            "NIR",
            r"\b[1-478][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}[ .]?\d{2}\b",
            0.5,
        ),
    ]
    CONTEXT = ["nir", "insee", "sécurité", "securite", "sécu", "secu", "social"]
    CORSICA = {"2A": "19", "2B": "18"}

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "FR_NIR"):
        super().__init__(
            supported_entity=supported_entity, patterns=self.PATTERNS, context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        nir = re.sub(r"[ .]", "", pattern_text).upper()
        if len(nir) != 15:
            return False
        department = nir[5:7]
        body = nir[:5] + self.CORSICA.get(department, department) + nir[7:13]
        if not body.isdigit():
            return False
        return 97 - int(body) % 97 == int(nir[13:])


class BeNationalNumberRecognizer(PatternRecognizer):
    """Belgian national register number (rijksregisternummer, numéro de registre national):
    birth date YYMMDD, a 3-digit serial and a 2-digit key, often written "85.07.30-033.28".

    The key is 97 − (the first 9 digits mod 97) for births before 2000 and 97 − (2 followed by
    them, mod 97) from 2000. A "bis" number, for people not in the register, adds 20 or 40 to the
    month; an unknown month or day is 00."""

    COUNTRY_CODE = "be"
    PATTERNS = [Pattern("Belgian national number", r"\b\d{2}[ .]?\d{2}[ .]?\d{2}[ .\-]?\d{3}[ .\-]?\d{2}\b", 0.5)]
    CONTEXT = ["rijksregisternummer", "rijksregister", "registre", "national", "insz", "niss", "identificatienummer"]

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "BE_NATIONAL_NUMBER"):
        super().__init__(
            supported_entity=supported_entity, patterns=self.PATTERNS, context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        digits = digits_of(pattern_text)
        if len(digits) != 11:
            return False
        month, day = int(digits[2:4]), int(digits[4:6])
        if month >= 60 or month % 20 > 12 or day > 31:
            return False
        body, key = int(digits[:9]), int(digits[9:])
        return key in (97 - body % 97, 97 - (2_000_000_000 + body) % 97)


def pl_pesel_recognizer() -> PlPeselRecognizer:
    """Presidio's PESEL recognizer (check digit, weights 1-3-7-9), with word boundaries and only
    the months of births from 1900 to 2099 (01-12, and 21-32 from 2000): the other centuries
    (+80, +40, +60) belong to no one alive, and UK mobile numbers written without spaces
    ("07700900123") would pass them."""
    pattern = Pattern("PESEL", r"\b\d{2}(?:0[1-9]|1[0-2]|2[1-9]|3[0-2])(?:0[1-9]|[12]\d|3[01])\d{5}\b", 0.4)
    return PlPeselRecognizer(patterns=[pattern], context=["pesel"], supported_language=LANGUAGE)


def se_personnummer_recognizer() -> SePersonnummerRecognizer:
    """Presidio's personnummer recognizer (date, Luhn), matching only YYMMDD-NNNN and
    (18|19|20)YYMMDD-NNNN, with or without the separator: its own patterns also take 7-digit dates
    and parts of longer numbers."""
    pattern = Pattern("Swedish personnummer", r"\b(?:18|19|20)?\d{6}[-+]?\d{4}\b", 0.5)
    return SePersonnummerRecognizer(patterns=[pattern], supported_language=LANGUAGE)


def fi_personal_identity_code_recognizer() -> FiPersonalIdentityCodeRecognizer:
    """Presidio's henkilötunnus recognizer (date, century sign, control character), without its
    "very weak" pattern that also matches inside longer strings."""
    pattern = Pattern("Finnish personal identity code", r"\b\d{6}[-+ABCDEFYXWVU]\d{3}[0-9ABCDEFHJKLMNPRSTUVWXY]\b", 0.5)
    return FiPersonalIdentityCodeRecognizer(patterns=[pattern], supported_language=LANGUAGE)


def eu_national_id_recognizers() -> list:
    """Personal identification numbers of EU countries that carry a check digit."""
    return [
        pl_pesel_recognizer(), fi_personal_identity_code_recognizer(), se_personnummer_recognizer(),
        NlBsnRecognizer(), FrNirRecognizer(), BeNationalNumberRecognizer(), DeTaxIdWithContextRecognizer(),
    ]


def card_number_recognizer():
    """Presidio's CreditCardRecognizer (Luhn check) with a pattern for every length and issuer range
    in use: 12 to 19 digits, Mastercard's 2221–2720 range, 19-digit Visa, 15-digit groupings
    4-4-4-3 and 4-6-5, Maestro's 12-digit cards. Presidio's own pattern takes only 13-16 digits
    from the 1, 3, 4, 5 and 6 ranges, and missed a third of the cards in our PII dev set."""
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    pattern = Pattern(
        "card number (12-19 digits)",
        r"(?<![\d-])(?:[1-6]\d{3})(?:[ -]?\d){8,15}(?![\d-])",
        0.3,
    )
    return CreditCardRecognizer(patterns=[pattern], supported_language=LANGUAGE)


class TitledPersonRecognizer(PatternRecognizer):
    """A courtesy or professional title followed by a capitalised name: "Dr Willis", "Ms. Borde",
    "Prof. Anna Ruiz". The small spaCy model often misses a lone surname after a title; the title
    is strong evidence that a person is meant. Only the name is reported, not the title."""

    TITLES = r"(?i:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Lady|Lord|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Dott|Dr\.med)"
    # Capitals and small letters of Latin-1 and Latin Extended-A (Łukasiewicz, Žagar, Öztürk, Şahin).
    NAME = r"[A-ZÀ-ÖØ-ÞĀ-ſ][a-zß-öø-ÿĀ-ſ'’-]+(?:\s+(?:van|von|de|der|da|di|del|la|le)\b)?(?:\s+[A-ZÀ-ÖØ-ÞĀ-ſ][a-zß-öø-ÿĀ-ſ'’-]+){0,2}"
    PATTERNS = [Pattern("title and name", rf"\b{TITLES}\.?\s+({NAME})", 0.85)]

    def __init__(self, supported_language: str = LANGUAGE):
        super().__init__(supported_entity="PERSON", patterns=self.PATTERNS, supported_language=supported_language,
                         name="TitledPersonRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        """Presidio reports the whole match; we report the name after the title. Presidio's default
        flags include IGNORECASE, which would take "dr kowalski signed the" for a name: the title
        matches in any case, the name only with its capitals."""
        results = super().analyze(text, entities, nlp_artifacts, re.DOTALL | re.MULTILINE)
        for result in results:
            match = re.match(rf"{self.TITLES}\.?\s+", text[result.start:result.end])
            if match:
                result.start += match.end()
        return results


NAMES_FILE = Path(__file__).resolve().parent / "data" / "person_names.json"
NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*?(?=['’][sS]\b|[^\w'’\-]|$)")
# Words just before a lone name that say a person is meant ("patient nowak", "dr kowalski").
PERSON_CONTEXT = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "dear", "patient", "colleague", "ask", "regards",
    "cc", "signed", "herr", "frau", "mme", "sig", "sra", "sr",
}
PERSON_CONTEXT_PHRASES = ("my name is", "this is", "i am", "i'm", "name:")
# After one of these a single word that is not a common word is a name, listed or not ("dr
# žagar"): TitledPersonRecognizer needs the name's capital letter.
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau", "mme"}


@dataclass(frozen=True)
class NameLists:
    first: frozenset
    last: frozenset
    common: frozenset


@cache
def name_lists() -> NameLists:
    """The name gazetteer (tools/build_name_gazetteer.py says where it comes from), loaded once."""
    data = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return NameLists(frozenset(data["first_names"]), frozenset(data["last_names"]), frozenset(data["common_words"]))


def is_latin(word: str) -> bool:
    return all(character < "\u0250" for character in word)


def is_cjk(word: str) -> bool:
    return all("\u3040" <= character <= "\u30ff" or "\u3400" <= character <= "\u9fff" or "\uac00" <= character <= "\ud7af"
               for character in word)


def casing(word: str) -> str:
    """"lower", "title", "upper" or "uncased" (scripts without case: Arabic, Hebrew, CJK, Devanagari...)."""
    if word.islower():
        return "lower"
    if word[:1].isupper() and (len(word) == 1 or not word[1:].isupper()):
        return "title"
    return "upper" if word.isupper() else "uncased"


class GazetteerPersonRecognizer(LocalRecognizer):
    """People's names from a list of first and last names, whatever their case or script.

    The small spaCy model finds names by their capitals and their place in an English sentence; it
    misses "padraig kelleher", "Аполлон Королев" and "鈴木和也". This recognizer reports:

    - a first name followed by a last name (and more last names: "María García López"), both in
      the lists and written in the same case; not when both are also common words ("will grant",
      "May Green"), which in a business question they mostly are; a possessive 's is not part of
      the name;
    - "Surname, First" as lists and forms write it ("Nowak, Anna"), both capitalised and neither
      a common word;
    - a capitalised first name alone ("Nick approved it"), when it is not a common word and spaCy
      does not take it for a place or an organisation (NOT_PEOPLE);
    - a lone first or last name that is not a common word, right after a word that announces a
      person ("dr", "patient", "my name is": PERSON_CONTEXT), or written in a script other than
      Latin inside an English sentence (an English sentence quotes a Cyrillic or Arabic word
      mostly to name someone);
    - a run of Chinese, Japanese or Korean characters that is exactly a surname and a given name
      from the lists ("李华"), so that a whole sentence in those scripts is never taken for a name.

    Every name scores SCORE: under spaCy's 0.85, so a policy can ask for more than the list's word
    (a PERSON minimum score above SCORE keeps only what the NER model or a title confirms).
    """

    SCORE = 0.6
    MAX_TOKENS = 4

    def __init__(self, supported_language: str = LANGUAGE, supported_entity: str = "PERSON"):
        super().__init__(supported_entities=[supported_entity], supported_language=supported_language,
                         name="GazetteerPersonRecognizer")

    def load(self) -> None:
        name_lists()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        names = name_lists()
        tokens = list(NAME_TOKEN.finditer(text))
        mostly_latin = sum(is_latin(token[0]) for token in tokens) * 2 >= len(tokens)
        others = [(entity.start_char, entity.end_char) for entity in getattr(nlp_artifacts, "entities", None) or ()
                  if entity.label_ in NOT_PEOPLE]
        results, index = [], 0
        while index < len(tokens):
            end = self._name_at(text, tokens, index, names, mostly_latin)
            if end is None and is_lone_first_name(tokens[index], names, others):
                end = index
            if end is None:
                index += 1
                continue
            results.append(self._result(tokens[index].start(), tokens[end].end()))
            index = end + 1
        return results

    def _name_at(self, text, tokens, index, names, mostly_latin) -> int | None:
        """The index of the last token of a name starting at tokens[INDEX], or None."""
        word = tokens[index][0]
        folded = word.casefold()
        if is_cjk(word):
            return index if is_cjk_name(folded, names) else None
        if len(word) < 2 or casing(word) == "upper":
            return None
        following = self._last_names_after(text, tokens, index, names)
        if self._is_surname_first(text, tokens, index, names):
            return index + 1
        if folded in names.first and following > index:
            common = folded in names.common and all(
                tokens[i][0].casefold() in names.common for i in range(index + 1, following + 1))
            if not common:
                return following
        listed = (folded in names.first or folded in names.last) and folded not in names.common
        if listed and (has_person_context(text, tokens[index].start()) or (mostly_latin and not is_latin(word))):
            return following
        if folded not in names.common and follows_title(text, tokens[index].start()):
            return following
        return None

    @staticmethod
    def _is_surname_first(text, tokens, index, names) -> bool:
        """tokens[INDEX] and the next are "Surname, First"."""
        if index + 1 >= len(tokens) or text[tokens[index].end():tokens[index + 1].start()] != ", ":
            return False
        last, first = tokens[index][0], tokens[index + 1][0]
        return (casing(last) == casing(first) == "title" and last.casefold() in names.last
                and first.casefold() in names.first and not {last.casefold(), first.casefold()} & names.common)

    def _last_names_after(self, text, tokens, index, names) -> int:
        """The last of the tokens after tokens[INDEX] that are last names in its case, one space
        (or a middle initial) apart; INDEX itself when there is none."""
        last = index
        style = casing(tokens[index][0])
        for following in range(index + 1, min(index + self.MAX_TOKENS, len(tokens))):
            word = tokens[following][0]
            gap = text[tokens[following - 1].end():tokens[following].start()]
            if gap != " " and not re.fullmatch(r" [A-Za-z]\. ", gap):
                break
            if casing(word) != style or word.casefold() not in names.last:
                break
            last = following
        return last

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.supported_entities[0], start=start, end=end, score=self.SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=self.SCORE, textual_explanation="A name in the name lists",
            ),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )


# What spaCy names that a capitalised first name alone may also be: "Georgia", "Victoria" and
# "Jordan" are places as often as people. Presidio hands the recognizers spaCy's entities under
# its own names (guardrails.pii.SPACY_LABELS), without the ignored ones (ORG among them).
NOT_PEOPLE = {"LOCATION", "NRP", "DATE_TIME"}


def is_lone_first_name(token: re.Match, names: NameLists, others: list[tuple[int, int]]) -> bool:
    """A capitalised first name from the lists, alone ("Nick approved it"), that is not a common
    word and that spaCy does not take for a place, an organisation or another kind of thing."""
    word = token[0]
    if not (is_latin(word) and casing(word) == "title" and len(word) >= 3):
        return False
    folded = word.casefold()
    if folded not in names.first or folded in names.common:
        return False
    return not any(start < token.end() and token.start() < end for start, end in others)


def is_cjk_name(word: str, names: NameLists) -> bool:
    """WORD (2 to 5 characters) is a surname from the lists followed by a given name from the lists."""
    if not 2 <= len(word) <= 5:
        return False
    return any(word[:cut] in names.last and word[cut:] in names.first for cut in range(1, len(word)))


def follows_title(text: str, start: int) -> bool:
    """Whether the word before START is a courtesy or professional title (TITLES), with or without a dot."""
    words = re.findall(r"\w+", text[max(0, start - 8):start])
    return bool(words) and words[-1].casefold() in TITLES and text[:start].rstrip().rstrip(".").endswith(words[-1])


def has_person_context(text: str, start: int) -> bool:
    """Whether the words just before START announce a person (PERSON_CONTEXT)."""
    before = text[max(0, start - 30):start].casefold().rstrip()
    words = re.findall(r"[\w']+:?", before)
    if words and words[-1].rstrip(":").rstrip(".") in PERSON_CONTEXT:
        return True
    return any(before.endswith(phrase) for phrase in PERSON_CONTEXT_PHRASES)
