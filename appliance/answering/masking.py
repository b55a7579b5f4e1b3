"""Personal data in passages and quotes, masked as the answer check would withhold it.

The worker records where its PII scanner found personal data in each passage an exchange
retrieved (offsets and types, `Exchange.passage_entities`). What the answer check withholds from a
model's text (types the policy blocks, and confidential or restricted ones) is masked wherever the
passage's own words are shown: the passage panel, the quotes of an answer, the API. A role the
policy lets reveal a type sees it in the passage panel, and each reveal is a ledger event (the
web view records it).
"""
from dataclasses import dataclass

from appliance.answering.checking import is_withheld_type
from guardrails.reasons import entity_name, joined

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
        return ShownPassage(chunk.text)
    withheld = [(start, end, entity) for start, end, entity in spans if is_withheld_type(policy, entity)]
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


def masked_quote(quote: dict, spans: list | None, policy) -> str:
    """QUOTE's text with the withheld personal data of its passage's SPANS (offsets in the passage)
    masked; a quote is never revealed here (the passage panel reveals, and records it)."""
    text, offset = quote["text"], quote.get("start", 0)
    for start, end, entity in spans or ():
        start, end = max(start - offset, 0), min(end - offset, len(text))
        if start < end and is_withheld_type(policy, entity):
            text = text[:start] + MASK * (end - start) + text[end:]
    return text


def masked_quotes(exchange, policy) -> list[dict]:
    """EXCHANGE's quotes with their `text` masked (see masked_quote)."""
    return [quote | {"text": masked_quote(quote, exchange.passage_entities.get(quote.get("chunk_id")), policy)}
            for quote in exchange.evidence]
