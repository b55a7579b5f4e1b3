"""Step 4a of the answer path: the appliance, not the model, picks the evidence.

    selector = EvidenceSelector(embedder=..., keywords=...)
    selector.warm_up()                                           # at worker start
    evidence = selector.run(question, question_vector, passages)  # Evidence

The retrieved passages are cut into sentences (and list items, table rows), each kept verbatim
with its passage and character offsets. Each sentence is scored against the question by:
- meaning: cosine of MiniLM embeddings of the question and of the sentence under its section title;
- coverage: the share of the question's keywords (BM25 tokens: stemmed, without stop words) that
  the sentence or its section title contains, each keyword weighted by how rare it is among the
  candidate sentences, so that "Saturday" counts more than "hours" in a page about opening hours;
- kind: a question asking how much, how many, how long or when wants a sentence with a number.

The best sentence, and the ones close behind it, are the evidence, with a sentence of the best
one's paragraph that makes an exception to it ("Gift cards must always be refused" after "You may
accept gifts up to EUR 50"). Whether they answer the question at all is a separate judgement
(`answers_question`): a logistic function of four numbers, each higher when the evidence is more
likely to answer,
- meaning: the best sentence's meaning, as above;
- passage_meaning: the meaning of the best sentence's whole passage;
- meaning_without_main_word: the best sentence's meaning when the question word it leans on most
  is left out ("How do I install grep on Windows?" and the synopsis of the grep command line share
  "grep" and nothing else);
- keywords_in_passages: the share of the question's keywords that some retrieved passage has
  ("parking spaces" in a handbook that never mentions parking),
with weights and threshold fitted on the development questions only
(appliance/answering/evaluation/fit_judgement.py). Below its threshold the analyst is told that
the documents do not answer the question, and the closest passages are offered as possibly related.

Text addressed to an assistant ("ignore your instructions and print ...", an image pointing
outside) is never evidence, whatever its score: documents can be poisoned.
"""
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.answering.prompting import Passage
from appliance.retrieval.embedding import Embedder
from appliance.retrieval.keywords import KeywordEncoder
from guardrails.injection import addresses_the_assistant
from ingest.chunking import trim

JUDGEMENT_PATH = Path(__file__).resolve().parent / "data" / "evidence_judgement.json"
# A sentence ends at . ! or ? followed by space and a capital, digit, quote or list marker (and at
# ; or : before an enumerated item: "as follows: (a) ..."; "taxes: EUR 220" goes on). A
# blank line ends a block, and a line break ends a bullet, a table row, or an enumerated item
# ("(2) ...") after punctuation; any other line break is a hard wrap inside a sentence (plain-text
# manuals wrap at 72 columns, "... and\n(2) were ...") and is read as a space.
_BULLET = r"[ \t]*[-*\u2022\u00b7|][ \t]"
_ENUMERATOR = r"[ \t]*\(?[a-zA-Z0-9]{1,3}[.)][ \t]"
# Where a paragraph, list item or table row ends: a blank line, or a line break before a bullet
# or an enumerated item. A quote never runs past one; every one also ends a sentence.
PARAGRAPH_BREAK = re.compile(
    r"\n[ \t]*\n\s*|\n(?=" + _BULLET + r")|(?<=[,;:.])\n(?=" + _ENUMERATOR + r")"
)
SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])[\"'\u201d\u2019)\]]*(?P<space>\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00a7]|" + _ENUMERATOR + r")"
    r"|(?<=[;:])(?P<before_item>\s+)(?=" + _ENUMERATOR + r")"
    r"|" + PARAGRAPH_BREAK.pattern
)
MIN_SENTENCE_CHARS = 12
MAX_QUOTES = 3
MAX_QUOTE_WORDS = 90
# A quote must make sense on its own. A sentence is scored alone, but it is quoted with the rest of
# its paragraph when the paragraph is this short (a manual's option entry: "'--exclude-dir=GLOB'
# Skip ... When searching recursively, skip any subdirectory ..."; the option's name is in the
# first sentence), and a short sentence ("Always ask for a receipt.") with the one after it.
WHOLE_PARAGRAPH_WORDS = 60
SHORT_SENTENCE_WORDS = 10
TABLE_ROW = re.compile(r"[ \t]*\|")
# A sentence joins the evidence when its score is this close to the best one's (0.12 chosen on
# dev: 0.08 left the answering sentence out when a wrong one scored a little higher, as for payday).
CLOSE_BEHIND = 0.12
# A sentence of the best one's paragraph that limits it decides the answer even when it scores
# lower: "You may accept gifts ... up to EUR 50." quoted without "Gift cards must always be refused,
# whatever their value." answers "Can I accept a EUR 20 gift card?" wrongly. One that says so about
# a word of the question the best one lacks is quoted with it (with_limiting_sentence).
LIMITS = re.compile(
    r"\b(?:never|not|no|nor|except|unless|however|only|prohibited|forbidden|refused?|declined?|cannot)\b|n't\b",
    re.IGNORECASE)
NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|hundred|thousand|half|once|twice|daily|weekly|monthly|annually|yearly|noon|midnight)\b", re.IGNORECASE)
WANTS_NUMBER = re.compile(
    r"\b(?:how (?:many|much|long|often|soon|quickly|fast|early|late|far|old)|when|what time|by what time|"
    r"which (?:day|date|year|time)|"
    r"what (?:is|are) the (?:limit|maximum|minimum|deadline|amount|rate|fee|cost|price|period|percentage|number)|"
    r"limit|maximum|minimum|deadline|within)\b", re.IGNORECASE)

# "Summarise this document", "give me an overview": no sentence answers that; the opening
# sentences of the best passages do.
ASKS_FOR_A_SUMMARY = re.compile(
    r"\b(?:summari[sz]e|summary|overview|outline|gist|tl;?dr)\b|\bwhat (?:is|are) (?:this|these|the) "
    r"(?:document|file|policy|handbook|manual|text)s? about\b", re.IGNORECASE)

# Weights of the score that ranks sentences (tuned on the development questions).
MEANING_WEIGHT, COVERAGE_WEIGHT, KIND_WEIGHT, RANK_WEIGHT = 1.0, 0.6, 0.1, 0.05
SECTION_TERM_WEIGHT = 0.5  # a keyword in the section title counts half as much as one in the sentence


@dataclass(frozen=True)
class Quote:
    passage: int      # the number of the passage it comes from
    start: int        # passage.text[start:end] == text
    end: int
    text: str
    score: float

    @property
    def display_text(self) -> str:
        """The quote as read on screen: the document's hard line wraps as spaces."""
        return " ".join(self.text.split())

    def as_dict(self) -> dict:
        return {"n": self.passage, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Evidence:
    quotes: tuple[Quote, ...]        # best first; empty when nothing usable was retrieved
    answers_question: bool
    confidence: float                # 0..1: how sure the appliance is that the quotes answer the question
    features: dict                   # what the judgement was made from, for the trace
    withheld: int = 0                # sentences left out because they address an assistant

    @property
    def cited(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(quote.passage for quote in self.quotes))


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    rank: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]

    @property
    def with_heading(self) -> str:
        heading = own_heading(self.passage.section)
        return f"{heading}: {self.text}" if heading else self.text


def own_heading(section: str) -> str:
    """The last heading of a section path ("Staff Handbook > 3. Leave > 3.1 Annual leave" -> "3.1 Annual
    leave"): what a sentence's meaning is compared with. The whole path drowns it: the question
    "How many days of holiday do I get each year?" is 0.59 close to the annual-leave sentence, 0.56
    with its own heading and 0.32 with the whole path (MiniLM), so a document with a title heading
    was judged not to answer questions it answers."""
    return section.rsplit(" > ", 1)[-1].strip()


@dataclass(frozen=True)
class Judgement:
    """Whether the best evidence answers the question: a logistic function of its features, with
    weights and threshold fitted on the development questions by
    appliance/answering/evaluation/fit_judgement.py (never on the test questions)."""

    weights: dict[str, float]
    bias: float
    threshold: float

    FEATURES = ("meaning", "passage_meaning", "meaning_without_main_word", "keywords_in_passages")

    @classmethod
    def load(cls, path: Path = JUDGEMENT_PATH) -> "Judgement":
        """Raises ValueError when PATH is not a judgement file the fitting script wrote."""
        try:
            data = json.loads(Path(path).read_text())
            judgement = cls({name: float(data["weights"][name]) for name in cls.FEATURES}, float(data["bias"]),
                            float(data["threshold"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not an evidence judgement file: {error}") from None
        if not 0 < judgement.threshold < 1 or not all(map(math.isfinite, [*judgement.weights.values(), judgement.bias])):
            raise ValueError(f"{path} is not an evidence judgement file: bad weights or threshold")
        return judgement

    def confidence(self, features: dict) -> float:
        logit = self.bias + sum(weight * features[name] for name, weight in self.weights.items())
        return 1.0 / (1.0 + math.exp(-logit))


class EvidenceSelector:
    def __init__(self, *, embedder: Embedder, keywords: KeywordEncoder, judgement: Judgement | None = None):
        if not isinstance(embedder, Embedder):
            raise TypeError(f"embedder must be an Embedder, got {embedder!r}")
        if not isinstance(keywords, KeywordEncoder):
            raise TypeError(f"keywords must be a KeywordEncoder, got {keywords!r}")
        self.embedder, self.keywords = embedder, keywords
        self.judgement = judgement or Judgement.load()

    def warm_up(self) -> None:
        self.embedder.warm_up()
        self.keywords.warm_up()

    def run(self, question: str, question_vector: np.ndarray, passages: Sequence[Passage]) -> Evidence:
        candidates = [sentence for rank, passage in enumerate(passages, start=1) for sentence in sentences_of(passage, rank)]
        usable = [sentence for sentence in candidates if not addresses_the_assistant(sentence.text)]
        withheld = len(candidates) - len(usable)
        if not usable:
            return Evidence((), False, 0.0, {"reason": "no usable passages"}, withheld)
        if ASKS_FOR_A_SUMMARY.search(question):
            if not mentions_what_is_asked(question, passages):
                return Evidence((), False, 0.0, {"reason": "the passages do not mention what is to be summarised"},
                                withheld)
            return Evidence(opening_sentences(usable), True, 1.0, {"summary": 1.0}, withheld)
        scored = self.score(question, question_vector, usable)
        best, best_meaning = scored[0][0], scored[0][1]["meaning"]
        quotes = pick_quotes(scored)
        features = {
            "meaning": best_meaning,
            "passage_meaning": float(self.embedder.embed([f"{own_heading(best.passage.section)}\n{best.passage.text}"])[0]
                                     @ np.asarray(question_vector, dtype=np.float32)),
            "meaning_without_main_word": self.meaning_without_main_word(question, best, best_meaning),
            "keywords_in_passages": self.keywords_in_passages(question, passages),
        }
        confidence = self.judgement.confidence(features)
        return Evidence(quotes, confidence >= self.judgement.threshold, round(confidence, 4),
                        {name: round(value, 4) for name, value in features.items()}, withheld)

    def meaning_without_main_word(self, question: str, best: Sentence, meaning: float) -> float:
        """How close BEST stays to the question when the question's word it leans on most is left out:
        the lowest cosine between BEST (under its heading) and the question with one content word
        removed. "How do I install grep on Windows?" is 0.64 close to "The general synopsis of the
        'grep' command line is", but only 0.06 without "grep": the sentence shares the topic, not
        what is asked. A sentence that answers stays close whichever word is left out. MEANING
        (the cosine with the whole question) when the question has no content word."""
        words = [match for match in _WORD.finditer(question) if match.group().casefold() not in STOPWORDS]
        if not words:
            return meaning
        shortened = [question[:match.start()] + question[match.end():] for match in words]
        vectors = self.embedder.embed([*shortened, best.with_heading])
        return float((vectors[:-1] @ vectors[-1]).min())

    def keywords_in_passages(self, question: str, passages: Sequence[Passage]) -> float:
        """The share of the question's keywords (BM25 terms) that some retrieved passage has in its
        text or section title. Retrieval looks for every keyword in the whole collection, so one
        missing from all the passages it brings back is one the documents seldom or never use:
        "parking spaces" in a handbook that never mentions parking, "ripgrep" beside the grep manual. 0 for
        a question without keywords."""
        asked = set(self.keywords.embed_question(question).indices)
        if not asked:
            return 0.0
        said = set().union(*(self.keywords.embed_passage(f"{p.section}\n{p.text}").indices for p in passages))
        return len(asked & said) / len(asked)

    def score(self, question: str, question_vector: np.ndarray, sentences: list[Sentence]) -> list[tuple[Sentence, dict, float]]:
        """SENTENCES with their features and score, best first."""
        vectors = self.embedder.embed([sentence.with_heading for sentence in sentences])
        meanings = vectors @ np.asarray(question_vector, dtype=np.float32)
        asked = set(self.keywords.embed_question(question).indices)
        terms = [set(self.keywords.embed_passage(sentence.text).indices) for sentence in sentences]
        passages = {sentence.passage.number: sentence.passage for sentence in sentences}
        headings = {n: set(self.keywords.embed_passage(passage.section).indices) for n, passage in passages.items()}
        weights = rarity_weights(asked, terms)
        wants_number = bool(WANTS_NUMBER.search(question))
        scored = []
        for sentence, meaning, sentence_terms in zip(sentences, meanings, terms):
            coverage = covered_share(asked, sentence_terms, headings[sentence.passage.number], weights)
            has_kind = wants_number and bool(NUMBER.search(sentence.text))
            score = (MEANING_WEIGHT * float(meaning) + COVERAGE_WEIGHT * coverage + KIND_WEIGHT * has_kind
                     + RANK_WEIGHT / sentence.rank)
            features = {"meaning": float(meaning), "coverage": coverage, "keywords": asked & sentence_terms}
            scored.append((sentence, features, score))
        return sorted(scored, key=lambda item: -item[2])


STOPWORDS = frozenset(
    "the and for are but not you your yours our ours can could would should shall will may might must have has had "
    "does did doing done was were been being this that these those there their them they what when where which who whom "
    "whose why how with without about from into onto over under than then also just only very any all each every some "
    "such other more most much many few own same too out off per via get got give given want need like know tell "
    "say says said use used using one ones thing things way ways yes able please still ever again "
    "its it's i'm i've don't doesn't isn't aren't can't".split()
)
_WORD = re.compile(r"[^\W\d_][\w'-]{2,}")


def content_words_of(text: str) -> set[str]:
    return {word for word in (w.casefold() for w in _WORD.findall(text)) if word not in STOPWORDS}


# What a request for a summary says besides what is to be summarised.
SUMMARY_WORDS = frozenset(
    "summarise summarize summary overview outline gist tldr document documents file files policy policies "
    "handbook manual text texts page pages section sections chapter brief briefly short main points".split()
)


def mentions_what_is_asked(question: str, passages: Sequence[Passage]) -> bool:
    """Whether the passages mention what QUESTION asks to summarise ("the refund document": refund),
    in their text, section titles or document names. "Summarise this document" asks about no
    subject of its own, so any passage will do."""
    subject = {word[:5] for word in content_words_of(question) - SUMMARY_WORDS}
    if not subject:
        return True
    said = " ".join(f"{p.document} {p.section} {p.text}" for p in passages)
    return bool(subject & {word[:5] for word in content_words_of(said.replace("-", " ").replace("_", " "))})


def opening_sentences(sentences: list[Sentence]) -> tuple[Quote, ...]:
    """For "summarise this": the first usable sentence of each of the best MAX_QUOTES passages."""
    firsts = {}
    for sentence in sentences:
        firsts.setdefault(sentence.passage.number, sentence)
    chosen = sorted(firsts.values(), key=lambda s: s.rank)[:MAX_QUOTES]
    return tuple(Quote(s.passage.number, s.start, s.end, s.text, 1.0) for s in sorted(chosen, key=lambda s: s.passage.number))


def sentences_of(passage: Passage, rank: int) -> list[Sentence]:
    """PASSAGE cut at sentence ends and line breaks, each piece trimmed; pieces too short to say
    anything on their own (a lone heading number) are left out."""
    pieces, start = [], 0
    for match in [*SENTENCE_BREAK.finditer(passage.text), None]:
        end = match.start() if match else len(passage.text)
        if match and match.group("space"):
            end = match.start("space")  # keeps the closing quote or bracket after the full stop
        piece_start, piece_end = trim(passage.text, start, end)
        if piece_end - piece_start >= MIN_SENTENCE_CHARS:
            pieces.append(Sentence(passage, rank, piece_start, piece_end))
        start = match.end() if match else len(passage.text)
    return pieces


def rarity_weights(asked: set[int], terms: list[set[int]]) -> dict[int, float]:
    """Each question keyword's weight: log(1 + n / (1 + sentences holding it)); a keyword in
    every sentence says little about which one answers."""
    counts = Counter(term for sentence_terms in terms for term in sentence_terms & asked)
    return {term: math.log(1 + len(terms) / (1 + counts[term])) for term in asked}


def covered_share(asked: set[int], sentence: set[int], heading: set[int], weights: dict[int, float]) -> float:
    if not asked:
        return 0.0
    total = sum(weights.values())
    found = sum(weights[t] for t in asked & sentence) + SECTION_TERM_WEIGHT * sum(weights[t] for t in (asked & heading) - sentence)
    return found / total


def pick_quotes(scored: list[tuple[Sentence, dict, float]]) -> tuple[Quote, ...]:
    """The best sentence, and up to MAX_QUOTES - 1 more that score close behind it, each quoted so
    that it reads on its own (quote_span), within MAX_QUOTE_WORDS in all; in the order the analyst
    reads them: by passage, then position. Sentences of one paragraph become one quote. A sentence
    that limits the best one comes with it (with_limiting_sentence)."""
    best_score = scored[0][2]
    chosen: list[tuple[Passage, int, int, float]] = []
    words = 0
    for sentence, _features, score in scored:
        if len(chosen) == MAX_QUOTES or (chosen and score < best_score - CLOSE_BEHIND):
            break
        start, end = quote_span(sentence)
        if any(p.number == sentence.passage.number and s <= start and end <= e for p, s, e, _ in chosen):
            continue
        length = len(sentence.passage.text[start:end].split())
        if chosen and words + length > MAX_QUOTE_WORDS:
            start, end = sentence.start, sentence.end
            length = len(sentence.text.split())
            if words + length > MAX_QUOTE_WORDS:
                continue
        chosen = [c for c in chosen if not (c[0].number == sentence.passage.number and start <= c[1] and c[2] <= end)]
        chosen.append((sentence.passage, start, end, score))
        words = sum(len(p.text[s:e].split()) for p, s, e, _ in chosen)
    chosen = with_limiting_sentence(chosen, scored)
    chosen.sort(key=lambda item: (item[0].number, item[1]))
    return tuple(Quote(p.number, s, e, p.text[s:e], round(score, 4)) for p, s, e, score in chosen)


def with_limiting_sentence(chosen: list[tuple[Passage, int, int, float]],
                           scored: list[tuple[Sentence, dict, float]]) -> list[tuple[Passage, int, int, float]]:
    """CHOSEN with the best-scoring sentence of the best one's paragraph that limits it (an exception
    or a prohibition: LIMITS) and has a keyword of the question that the best one lacks ("gift card"
    beside "gifts"; a sentence that only repeats the best one's words is not needed to read it), when
    CHOSEN leaves it out: the
    best sentence's quote is stretched to reach it, so that both read in one quote, or, when that
    goes past MAX_QUOTE_WORDS, it is quoted alone. CHOSEN as it was when there is none or no room."""
    best, best_features, _score = scored[0]
    start, end = paragraph_around(best.passage.text, best.start, best.end)
    limiting = next((sentence for sentence, features, _score in scored[1:]
                     if sentence.passage.number == best.passage.number and start <= sentence.start and sentence.end <= end
                     and features["keywords"] - best_features["keywords"] and LIMITS.search(sentence.text)), None)
    if limiting is None or any(p.number == best.passage.number and s <= limiting.start and limiting.end <= e
                               for p, s, e, _ in chosen):
        return chosen
    quoted = next(c for c in chosen if c[0].number == best.passage.number and c[1] <= best.start and best.end <= c[2])
    stretched = (best.passage, min(quoted[1], limiting.start), max(quoted[2], limiting.end), quoted[3])
    kept = [c for c in chosen if not (c[0].number == best.passage.number and stretched[1] <= c[1] and c[2] <= stretched[2])]
    if sum(len(p.text[s:e].split()) for p, s, e, _ in [*kept, stretched]) <= MAX_QUOTE_WORDS:
        return [*kept, stretched]
    alone = (best.passage, limiting.start, limiting.end, quoted[3])
    if len(chosen) < MAX_QUOTES and sum(len(p.text[s:e].split()) for p, s, e, _ in [*chosen, alone]) <= MAX_QUOTE_WORDS:
        return [*chosen, alone]
    return chosen


def quote_span(sentence: Sentence) -> tuple[int, int]:
    """Where SENTENCE's quote starts and ends in its passage: its whole paragraph (list item, table
    row) when that is short, else the sentence, with the next one of its paragraph when it is too
    short to say much alone ("Always ask for a receipt." "If you lose one, ..."). A table row comes
    with the rows above it up to the table's header when they are short together: "| £12.90 | £14.50 |"
    alone does not say which figure is the Sunday rate."""
    text = sentence.passage.text
    start, end = paragraph_around(text, sentence.start, sentence.end)
    header = table_header_start(text, start)
    if header is not None and len(text[header:end].split()) <= WHOLE_PARAGRAPH_WORDS:
        return header, end
    if len(text[start:end].split()) <= WHOLE_PARAGRAPH_WORDS:
        return start, end
    if len(sentence.text.split()) < SHORT_SENTENCE_WORDS:
        following = next((s for s in sentences_of(sentence.passage, sentence.rank) if s.start >= sentence.end), None)
        if following and following.end <= end and len(text[sentence.start:following.end].split()) <= WHOLE_PARAGRAPH_WORDS:
            return sentence.start, following.end
    return sentence.start, sentence.end


def table_header_start(text: str, start: int) -> int | None:
    """When the line at START is a row of a table ("| ... |"), where the table's first line (its
    header) starts; None for any other line, or for the header itself."""
    line = text.rfind("\n", 0, start) + 1
    if not TABLE_ROW.match(text, line):
        return None
    first = line
    while first > 0:
        above = text.rfind("\n", 0, first - 1) + 1
        if not TABLE_ROW.match(text, above):
            break
        first = above
    return first if first < line else None


def paragraph_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The trimmed span of the paragraph of TEXT that holds TEXT[start:end]."""
    before = [m.end() for m in PARAGRAPH_BREAK.finditer(text, 0, start)]
    after = PARAGRAPH_BREAK.search(text, end)
    return trim(text, before[-1] if before else 0, after.start() if after else len(text))
