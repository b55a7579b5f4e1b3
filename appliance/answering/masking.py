"""Personal data in passages and quotes, masked as the answer check would withhold it.

The worker records where its PII scanner found personal data in each passage an exchange
retrieved (offsets and types, `Exchange.passage_entities`). What the answer check withholds from a
model's text (types the policy blocks, and confidential or restricted ones) is masked wherever the
passage's own words are shown: the passage panel, the quotes of an answer, the API. A role the
policy lets reveal a type sees it in the passage panel, and each reveal is a ledger event (the
web view records it).

The answer the analyst reads is masked the same way (masked_answer): a value masked in a quote is
masked wherever the answer repeats it, so the answer never shows what its own quotes hide. The
scanner's spans are not all there is: an e-mail address at a domain without a public suffix
("northbank.example", "corp.local") is no e-mail address to Presidio, so every address written like
one is masked too when the policy withholds e-mail addresses (a masked name must not be undone by
"petra.lindqvist@...").
"""
import re
from dataclasses import dataclass

from appliance.answering.checking import is_withheld_type
from appliance.answering.models import Exchange
from appliance.plain_words import entity_name, entity_words
from guardrails.reasons import joined

MASK = "•"
MASKED_NOTICE = "Personal data in this passage is masked: {kinds}."
REVEALABLE_NOTICE = "Your role may reveal {kinds}; each reveal is recorded in the audit ledger."
REVEALED_NOTICE = "Revealed {kinds}; this reveal is recorded in the audit ledger."
UNMASKABLE_NOTICE = ("This passage holds personal data ({kinds}) and cannot be shown masked here. "
                     "Open it from the answer that retrieved it.")
REVEAL_REFUSED = "The policy does not let your role reveal personal data in this passage."


@dataclass(frozen=True)
class ShownPassage:
    text: str
    notice: str = ""
    can_reveal: bool = False
    revealed: tuple[str, ...] = ()   # entity types shown unmasked on request
    refused: bool = False            # a reveal was asked for and the policy allows none of it


def masked_passage(chunk, spans: list | None, policy, roles: list[str], *, reveal: bool) -> ShownPassage:
    """CHUNK's text with the withheld personal data in SPANS ([start, end, type]) masked, each value
    by as many MASK characters as it has (so the quotes' offsets still mark the right words). With
    REVEAL, the types the policy lets ROLES reveal are left as they are. Without SPANS, a passage
    the ingest scan found withheld types in is not shown at all (fail closed)."""
    if spans is None:
        types = [entity for entity in chunk.entity_types if is_withheld_type(policy, entity)]
        if types:
            return ShownPassage("", UNMASKABLE_NOTICE.format(kinds=kinds_of(types)), refused=reveal)
        if not withheld_in(chunk.text, (), policy):
            return ShownPassage(chunk.text)
    withheld = withheld_in(chunk.text, spans, policy)
    revealable = [entity for _, _, entity in withheld if policy.may_reveal(roles, entity)]
    if reveal and not revealable:
        return ShownPassage("", refused=True)
    revealed = tuple(dict.fromkeys(revealable)) if reveal else ()
    text = chunk.text
    masked = []
    for start, end, entity in withheld:
        if entity not in revealed:
            text = text[:start] + MASK * (end - start) + text[end:]
            masked.append(entity)
    notices = []
    if masked:
        notices.append(MASKED_NOTICE.format(kinds=kinds_of(masked)))
    if revealed:
        notices.append(REVEALED_NOTICE.format(kinds=kinds_of(revealed)))
    elif revealable:
        notices.append(REVEALABLE_NOTICE.format(kinds=kinds_of(revealable)))
    return ShownPassage(text, " ".join(notices), can_reveal=bool(revealable) and not revealed, revealed=revealed)


def kinds_of(entity_types) -> str:
    """Entity types in plain words, each once, in order: "an e-mail address and a phone number"."""
    return joined([entity_name(entity) for entity in dict.fromkeys(entity_types)])


# An e-mail address as people write one, whatever its domain (see the module docstring).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")


def withheld_in(text: str, spans, policy, offset: int = 0) -> list[tuple[int, int, str]]:
    """The personal data in TEXT the answer check would withhold, as (start, end, type) in TEXT, in
    order: the withheld ones of SPANS ([start, end, type], offsets in a passage that TEXT starts at
    OFFSET of), cut to TEXT, and each e-mail address in TEXT no span covers when the policy withholds
    e-mail addresses."""
    withheld = []
    for start, end, entity in spans or ():
        start, end = max(start - offset, 0), min(end - offset, len(text))
        if start < end and is_withheld_type(policy, entity):
            withheld.append((start, end, entity))
    if is_withheld_type(policy, "EMAIL_ADDRESS"):
        withheld += [(match.start(), match.end(), "EMAIL_ADDRESS") for match in EMAIL.finditer(text)
                     if not any(start <= match.start() and match.end() <= end for start, end, _ in withheld)]
    return sorted(withheld)


def masked_quote(quote: dict, spans: list | None, policy) -> str:
    """QUOTE's text with the withheld personal data of its passage's SPANS (offsets in the passage)
    masked; a quote is never revealed here (the passage panel reveals, and records it)."""
    text = quote["text"]
    for start, end, _ in withheld_in(text, spans, policy, quote.get("start", 0)):
        text = text[:start] + MASK * (end - start) + text[end:]
    return text


def masked_values(quote: dict, spans: list | None, policy) -> list[tuple[str, str]]:
    """(value, type) of each value masked_quote masks in QUOTE."""
    text = quote["text"]
    return [(text[start:end], entity) for start, end, entity in withheld_in(text, spans, policy, quote.get("start", 0))]


def masked_quotes(exchange, policy) -> list[dict]:
    """EXCHANGE's quotes with their `text` masked (see masked_quote)."""
    return [quote | {"text": masked_quote(quote, exchange.passage_entities.get(quote.get("chunk_id")), policy)}
            for quote in exchange.evidence]


def masked_exchange_answer(exchange, policy) -> str:
    """EXCHANGE's answer as the analyst reads it: masked_answer with the values its quotes mask."""
    values = [value for quote in exchange.evidence
              for value in masked_values(quote, exchange.passage_entities.get(quote.get("chunk_id")), policy)]
    return masked_answer(exchange.answer, values)


NAME_PART = re.compile(r"[^\W\d_][\w'-]{2,}")  # a word of a name worth masking alone: three letters or more


def masked_answer(answer: str, values: list[tuple[str, str]]) -> str:
    """ANSWER with every occurrence of each (value, type) of VALUES (what its quotes mask) masked, by
    as many MASK characters as it has: whole values first, spaces matched loosely ("0800 555 0199"
    across a line break), then each word of a person's name alone ("Ms Lindqvist" for "Petra
    Lindqvist"). Only whole words are masked: "Ann" does not mask "Annual"."""
    patterns = [r"\s+".join(re.escape(word) for word in value.split()) for value, _ in values if value.strip()]
    patterns += [re.escape(part) for value, entity in values if entity == "PERSON" for part in NAME_PART.findall(value)]
    for pattern in sorted(set(patterns), key=len, reverse=True):
        answer = re.sub(rf"(?<!\w){pattern}(?!\w)", lambda match: MASK * len(match[0]), answer)
    return answer


# Detectors whose findings are personal data (or what the organisation's patterns protect) at a
# known place in the question; a finding that only reports (a date, a place) is not masked.
MASKED_DETECTORS = ("pii", "policy_pattern")
TIMED_OUT = " (timed out)"  # a pattern that ran out of time names the whole question, not a value


def masked_question(question: str, findings: list[dict]) -> str:
    """QUESTION with each value its screening FINDINGS (a trace's verdict findings, spans in the
    question as received) blocked or kept inside for replaced by its kind in brackets: "card
    [payment card number] declined". For lists and the entry page; the entry page shows it whole
    only when the officer asks, and records that. Overlapping spans are masked as one, named by each kind."""
    spans = sorted((finding["start"], finding["end"], mask_words(finding)) for finding in findings
                   if finding.get("detector") in MASKED_DETECTORS and finding.get("action") != "report"
                   and not finding.get("type", "").endswith(TIMED_OUT)
                   and 0 <= finding.get("start", -1) < finding.get("end", -1) <= len(question))
    merged: list[list] = []
    for start, end, words in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = list(dict.fromkeys([*merged[-1][2], words]))
        else:
            merged.append([start, end, [words]])
    for start, end, words in reversed(merged):
        question = f"{question[:start]}[{' or '.join(words)}]{question[end:]}"
    return question


# Shown instead of a question whose personal data screening did not look for (see is_masked_fully).
NOT_CHECKED = "[question not shown: it was not checked for personal data]"
PERSONAL_DATA_FAILED = "personal data check failed"


def is_masked_fully(verdict: dict) -> bool:
    """Whether masked_question masks all the personal data of the question a trace's VERDICT (its
    "verdict" details) is about: the personal data check ran, to the end. It does not for an
    overlong question, when that check failed or an organisation pattern ran out of time; nor, in a
    trace from before verdicts named the checks that ran ("checked"), for a question blocked before
    the check was reached (the check then ran only if it found something)."""
    findings = verdict.get("findings") or []
    if any(finding.get("detector") == "screening" and finding.get("type") == PERSONAL_DATA_FAILED
           or finding.get("detector") == "policy_pattern" and finding.get("type", "").endswith(TIMED_OUT)
           for finding in findings):
        return False
    if "checked" in verdict:
        return "personal data" in verdict["checked"]
    return verdict.get("action") != "block" or any(finding.get("detector") in MASKED_DETECTORS for finding in findings)


def shown_question(question: str, verdict: dict) -> str:
    """QUESTION as a list shows it: masked_question with VERDICT's findings when is_masked_fully,
    else NOT_CHECKED (a page that says "personal data masked" must not show what nobody looked at)."""
    if not is_masked_fully(verdict):
        return NOT_CHECKED
    return masked_question(question, verdict.get("findings") or [])


def mask_words(finding: dict) -> str:
    if finding["detector"] == "pii":
        return entity_words(finding["type"])
    return finding["type"]  # the pattern's name, as the officer wrote it


@dataclass(frozen=True)
class AnswerAsShown:
    text: str                       # the answer, its quotes masked as the analyst read them
    quotes: tuple[dict, ...] = ()   # the quotes, masked: {"n": passage number, "text": one line}
    masked: tuple[str, ...] = ()    # entity types masked in them
    is_known: bool = True           # False: the exchange that held the spans is no longer stored

    @property
    def masked_words(self) -> list[str]:
        return [entity_words(entity) for entity in self.masked]


def answer_as_shown(answer: str, details: dict, passage_texts: dict, trace_id: str, policy) -> AnswerAsShown:
    """An answer trace's ANSWER (sealed) and quotes as the analyst read them: each quote masked as
    the chat masks it (masked_quote) with the spans the worker recorded on the analyst's exchange
    for the trace TRACE_ID, under POLICY (the verdict's version). DETAILS are the trace's details
    (its quotes' passages and offsets); PASSAGE_TEXTS its sealed passages ({"n": text})."""
    quotes = (details.get("evidence") or {}).get("quotes") or []
    exchange = Exchange.objects.filter(trace_id=trace_id).only("passage_entities").first() if quotes else None
    chunks = {str(passage["n"]): passage["chunk_id"] for passage in details.get("passages") or []}
    shown, values = [], []
    for quote in quotes:
        n = str(quote["n"])
        raw = {"text": (passage_texts.get(n) or "")[quote["start"]:quote["end"]], "start": quote["start"]}
        spans = exchange.passage_entities.get(chunks.get(n, "")) if exchange is not None else None
        if exchange is not None:  # else the quotes are shown as the documents hold them (is_known)
            values += masked_values(raw, spans, policy)
            raw = raw | {"text": masked_quote(raw, spans, policy)}
        shown.append({"n": quote["n"], "text": " ".join(raw["text"].split())})
    return AnswerAsShown(masked_answer(answer, values), tuple(shown), tuple(dict.fromkeys(entity for _, entity in values)),
                         is_known=not quotes or exchange is not None)
