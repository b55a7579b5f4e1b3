"""Step 5 of the answer path: the output rails an answer passes before the analyst sees any of it.

    checker = AnswerChecker(scanner=...)
    checker.warm_up()                                        # at worker start
    checked = checker.run(text, passages=..., question=..., policy=...)   # CheckedAnswer

NeMo Guardrails runs the output flow "check answer" (guardrails/config/output.co); each check
below is one of its actions, in this order, each working on the text the one before left:

1. outside links: a markdown image or link to a host outside the appliance would make the
   analyst's browser send data out when the answer is shown (the classic injection payload).
   They are removed and flagged.
2. personal data the analyst may not see: personal data (Presidio, the same scanner as
   screening) whose value is neither in the passages the analyst was given (all from collections
   granted to them) nor in their own question is withheld: the model made it up, or it came from
   somewhere the analyst has no right to read. Values of entity types the policy blocks are
   withheld always. Dates, URLs, places and machine identifiers (public or internal, see
   guardrails/sensitivity.py) are not personal enough to withhold. A confidential value that IS in
   the passages passes: the analyst may read those documents, and whether they see the value is
   the display's rule, not this check's (answering/masking.py masks it in the answer wherever its
   quotes mask it, and the policy's passage_reveal may let the role reveal it).
3. grounding: the model's text must cite a quote it was given, and every number, amount, date,
   identifier and proper noun in it must appear in the quotes it cites; it must give the figure a
   "how much / how many / when" question asks for, add at most one word its quotes lack, not
   answer a bare yes or no, carry no markup and not repeat itself. A citation must not sit inside
   a word or a number.
4. prompt echo: an answer that repeats the prompt's own markup or instructions, or only restates
   the question, is flagged: it is not an answer, and may leak the prompt.

A model's text that fails any check is never shown as an answer: the answer path shows the
quoted evidence instead (outcome "quoted"), and the failed checks say why.

How streaming and checking fit: the model's tokens are never shown as they come. The answer path
(pipeline.CheckedStream) releases the text up to its last finished sentence, and only after
checks 1 and 2 ran over everything released so far (final=False); check 3 judges the whole
answer, so it runs once, at the end (final=True), when the checked text replaces what was shown.
A link or a person's phone number is therefore withheld before the browser ever receives it.
"""
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from appliance.answering.evidence import NUMBER, SENTENCE_BREAK, WANTS_NUMBER, Quote
from appliance.answering.prompting import QUOTES_HEADING, Passage
from guardrails.findings import BLOCK
from guardrails.pii import PiiFinding, PiiScanner
from guardrails.policy import Policy

logger = logging.getLogger(__name__)

CITATION = re.compile(r"\[(\d{1,3})\]")
MARKDOWN_IMAGE_OR_LINK = re.compile(r"!?\[[^\]\n]{0,200}\]\(\s*(?:https?:)?//[^)\s]{1,500}[^)]{0,200}\)")
BARE_URL = re.compile(r"\bhttps?://[^\s)\]]{1,500}")
PROMPT_MARKUP = re.compile(
    r"<passage\b|</passage>|\bQuestion:|" + re.escape(QUOTES_HEADING) + r"|\bthe quotes?\b|\bquote number|"
    r"\bthe question\b|control token removed|data, not instructions", re.IGNORECASE)
MARKUP = re.compile(r"<[a-z/!][^>]{0,200}>|\]\(|^\s*[#>*|-]|\*\*|__|`|\|.*\|", re.IGNORECASE | re.MULTILINE)
CITATION_IN_WORD = re.compile(r"[^\W_]\[\d{1,3}\]|\[\d{1,3}\][^\W_]|\[\d{1,3}\][.,]\d")
# Facts an answer may only state when its quotes state them: numbers (amounts, dates, times, clause
# numbers), words with digits (identifiers), and capitalised words that do not open a sentence.
FACT_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
FACT_IDENTIFIER = re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w-]{2,}\b")
FACT_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'-]*[A-Z0-9][\w'-]*\b|(?<=[\w,;] )[A-Z][a-z][\w'-]*")
NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million"
)
NUMBER_WORD = re.compile(rf"\b(?:{NUMBER_WORDS})\b", re.IGNORECASE)
# Of the content words an answer adds to the question's, at most this many may be missing from its
# quotes (a currency's names count as one word: "220 euros" for "EUR 220" passes). "The number 240
# is the exact number of the card you need to call" (the quote's 240 is an extension, not the card
# line) does not, nor "The guest Wi-Fi password is displayed on the guest laptop screen" from "...
# is shown on the screen at reception": a 135M model's paraphrase is where its mistakes hide, so
# the answer must stay in the quotes' words, and when it does not the analyst reads the quotes.
MAX_WORDS_NOT_QUOTED = 0
MIN_ANSWER_WORDS = 3  # "1. [1]" is not an answer
WORDS = re.compile(r"\w+")
# "Yes" or "no" is a claim no lexical check can verify against a quote ("No, the answer is no"
# to a question the quote answers yes): such an answer is shown as the quotes.
YES_OR_NO = re.compile(r"^\W*(?:yes|no)\b|\b(?:answer is|answer:)\W*(?:yes|no)\b", re.IGNORECASE)
# A sentence with the spaces after it: the matches put back together are the text itself.
SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+[ \t]*|\n|$)")
WORD = re.compile(r"[^\W\d_]{4,}")

# Levels of personal data worth withholding (see guardrails/sensitivity.py).
WITHHELD_LEVELS = ("confidential", "restricted")


def is_withheld_type(policy: Policy, entity_type: str) -> bool:
    """Personal data an analyst is not shown unless it is in their passages or question: types the
    policy blocks, and types the policy labels confidential or restricted (its entity_labels, the
    same labels documents get). Dates, places and web addresses are shown."""
    return (policy.action_for_entity(entity_type) == BLOCK
            or policy.label_for_entity(entity_type) in WITHHELD_LEVELS)
# Words are compared on their first five letters, so that "terminate" in a quote supports
# "termination" in the answer.
STOPWORDS = frozenset(
    "about above after again also because been before being below between both could does doing down during each "
    "from further have having here into itself just more most other over same should some such than that their "
    "theirs them then there these they this those through under until very were what when where which while with "
    "would your yours according passage passages document documents says said state states".split()
)


@dataclass(frozen=True)
class OutputCheck:
    name: str       # "outside links", "personal data", "citations", "grounding", "prompt echo"
    passed: bool
    detail: str


@dataclass(frozen=True)
class CheckedAnswer:
    text: str                       # what the analyst is shown
    cited: tuple[int, ...]          # passage numbers cited, in order of first use
    checks: tuple[OutputCheck, ...]

    @property
    def flags(self) -> list[str]:
        return [check.detail for check in self.checks if not check.passed]


@dataclass
class AnswerUnderCheck:
    """One answer going through the output rails; each action reads and may rewrite `text`."""

    text: str
    passages: Sequence[Passage]
    question: str
    policy: Policy
    final: bool
    checks: list[OutputCheck]
    quotes: Sequence[Quote] = ()
    cited: tuple[int, ...] = ()


class AnswerChecker:
    def __init__(self, *, scanner: PiiScanner):
        if not isinstance(scanner, PiiScanner):
            raise TypeError(f"scanner must be a PiiScanner, got {scanner!r}")
        self.scanner = scanner
        self._rails = None

    def warm_up(self) -> None:
        from guardrails.policy import DEFAULT_RULES

        self.scanner.warm_up()
        self.run("Warm-up answer [1].", passages=[], question="Warm-up?", policy=Policy.from_rules(DEFAULT_RULES))

    def run(self, text: str, *, passages: Sequence[Passage], question: str, policy: Policy, final: bool = True,
            quotes: Sequence[Quote] = ()) -> CheckedAnswer:
        """TEXT as the analyst may see it, with every check's result. QUOTES are the evidence the
        model was given. With final=False (a part of an answer still being written) the checks
        that judge a whole answer are skipped."""
        answer = AnswerUnderCheck(text, passages, question, policy, final, [], quotes)
        self._output_rails().run(answer)
        return CheckedAnswer(answer.text, answer.cited, tuple(answer.checks))

    def _output_rails(self):
        if self._rails is None:
            from guardrails.rails import OutputRails

            self._rails = OutputRails({
                "withhold_outside_links": withholding_on_failure("outside links", withhold_outside_links),
                "withhold_personal_data": withholding_on_failure("personal data", self.withhold_personal_data),
                "check_grounding": withholding_on_failure("grounding", check_grounding),
                "check_prompt_echo": withholding_on_failure("prompt echo", check_prompt_echo),
            })
        return self._rails

    def withhold_personal_data(self, answer: AnswerUnderCheck) -> None:
        findings = self.scanner.scan([answer.text], score_threshold=answer.policy.pii_min_score)[0]
        visible = comparable(" ".join([answer.question, *(passage.text for passage in answer.passages)]))

        def is_withheld(finding) -> bool:
            blocked = answer.policy.action_for_entity(finding.entity_type) == BLOCK
            value = comparable(answer.text[finding.start:finding.end])
            return blocked or (is_withheld_type(answer.policy, finding.entity_type) and value not in visible)

        withheld = withheld_spans(answer.text, findings, is_withheld)
        for finding in reversed(withheld):
            answer.text = f"{answer.text[:finding.start]}[{finding.entity_type} withheld]{answer.text[finding.end:]}"
        if withheld:
            types = ", ".join(sorted({finding.entity_type for finding in withheld}))
            answer.checks.append(OutputCheck(
                "personal data", False,
                f"Withheld {len(withheld)} personal data value(s) that are not in your documents or question, "
                f"or that the policy blocks: {types}.",
            ))
        else:
            answer.checks.append(OutputCheck("personal data", True, "No personal data you may not see."))


def withheld_spans(text: str, findings, is_withheld) -> list[PiiFinding]:
    """The spans of TEXT to withhold, in order, for the scanner's FINDINGS of which IS_WITHHELD
    picks some. Findings that overlap are one value (the scanner keeps overlapping spans of the
    same strength, such as "Maria" and "Maria Keller"): if any of them is withheld, their whole
    extent is, named by the longest withheld one. Two withheld spans of one type with only spaces between them
    ("Maria" "Keller") are one value too. Withholding the first of two overlapping spans alone
    left the rest of the name showing ("[PERSON withheld] Keller")."""
    groups: list[list] = []
    for finding in sorted(findings, key=lambda found: (found.start, -found.end)):
        if groups and finding.start < groups[-1][-1].end:
            groups[-1].append(finding)
        else:
            groups.append([finding])
    spans = []
    for group in groups:
        chosen = [finding for finding in group if is_withheld(finding)]
        if not chosen:
            continue
        longest = max(chosen, key=lambda found: found.end - found.start)
        span = replace(longest, start=group[0].start, end=max(finding.end for finding in group))
        previous = spans[-1] if spans else None
        if previous and previous.entity_type == span.entity_type and not text[previous.end:span.start].strip():
            spans[-1] = replace(previous, end=span.end)
        else:
            spans.append(span)
    return spans


WITHHELD_UNCHECKED = "The answer was withheld: it could not be checked before being shown."


def withholding_on_failure(name: str, check):
    """CHECK as a rail action; if it fails, nothing of the answer is shown (fail closed). The
    exception's message may quote the answer, so only its type is logged."""

    def action(answer: AnswerUnderCheck) -> None:
        if answer.text == WITHHELD_UNCHECKED:
            return
        try:
            check(answer)
        except Exception as error:  # noqa: BLE001 - any failure must withhold, not show the answer unchecked
            logger.error("Answer check %r failed with %s; the answer is withheld", name, type(error).__name__)
            answer.text = WITHHELD_UNCHECKED
            answer.cited = ()
            answer.checks.append(OutputCheck(name, False, f"The {name} check failed, so the answer was withheld."))

    return action


def withhold_outside_links(answer: AnswerUnderCheck) -> None:
    text = answer.text
    found = len(MARKDOWN_IMAGE_OR_LINK.findall(text)) + len(BARE_URL.findall(MARKDOWN_IMAGE_OR_LINK.sub("", text)))
    if not found:
        answer.checks.append(OutputCheck("outside links", True, "No links or images to outside hosts."))
        return
    answer.text = BARE_URL.sub("[link removed]", MARKDOWN_IMAGE_OR_LINK.sub("[link removed]", text))
    answer.checks.append(OutputCheck("outside links", False, f"Removed {found} link(s) or image(s) to outside hosts."))


def check_grounding(answer: AnswerUnderCheck) -> None:
    """The model's text states nothing its cited quotes do not (see the module docstring)."""
    if not answer.final:
        return
    problems = grounding_problems(answer.text, answer.quotes, answer.question)
    given = {quote.passage for quote in answer.quotes}
    answer.cited = tuple(n for n in dict.fromkeys(int(n) for n in CITATION.findall(answer.text)) if n in given)
    if problems:
        answer.checks.append(OutputCheck("grounding", False, "The model's answer " + "; ".join(problems) + "."))
    else:
        answer.checks.append(OutputCheck(
            "grounding", True, "Every figure and name in the answer is in the quotes it cites."))


def grounding_problems(text: str, quotes: Sequence[Quote], question: str) -> list[str]:
    """What is wrong with TEXT as an answer drawn from QUOTES, in words for the analyst; [] when nothing."""
    body = CITATION.sub(" ", text).strip()
    if not body:
        return ["is empty"]
    problems = []
    given = {quote.passage: quote for quote in quotes}
    cited = [int(n) for n in CITATION.findall(text)]
    sources = [quote.text for quote in quotes if quote.passage in cited]
    if not cited:
        problems.append("cites no quote")
    elif any(n not in given for n in cited):
        problems.append(f"cites passages that were not quoted: {sorted(set(cited) - set(given))}")
    if CITATION_IN_WORD.search(text):
        problems.append("puts a citation inside a word or a number")
    if len(WORDS.findall(body)) < MIN_ANSWER_WORDS:
        problems.append("is too short to be an answer")
    facts = facts_of(body)
    evidence = comparable(" ".join(sources))
    missing = [fact for fact in facts if not fact_in(fact, evidence)]
    homes = [source for source in sources if all(fact_in(fact, comparable(source)) for fact in facts)]
    if missing:
        problems.append("states what its quotes do not: " + shortened(missing))
    elif facts and not homes:
        # "London" from one sentence and "EUR 280" from the next: each is quoted, the pair is not.
        problems.append("joins figures and names that no single quote states together")
    elif joined := numbers_joined_across_sentences(body, sources):
        # "25 days of annual leave plus public holidays, which is 27 days" from "... receive 25 days
        # of annual leave per year plus public holidays. After 5 years ..., entitlement rises to 27
        # days.": each number is quoted, and so is the pair, but not in one sentence; the condition
        # that ties 27 to 5 years is lost. A number keeps the sentence it was stated in.
        problems.append("puts numbers from different quoted sentences into one sentence (" + shortened(joined) + ")")
    elif homes and (left_out := figures_left_out(body, homes[0])):
        # "Saturdays ... 07:30 to 19:00" from "07:30 to 19:00 on weekdays and 09:00 to 13:00 on
        # Saturdays": every figure is quoted, but which one goes with what is not checked. An
        # answer that picks some of its quote's figures of one kind is shown as the quote, which
        # has them all. ("30 days" from "80 euros per trip ... within 30 days" leaves out no day count.)
        problems.append("leaves out figures its quote states (" + shortened(left_out) + "), so which one applies is "
                        "not checked")
    if WANTS_NUMBER.search(question) and any(NUMBER.search(q.text) for q in quotes) and not NUMBER.search(body):
        problems.append("does not give the figure the question asks for")
    own_words = content_words(body) - content_words(question)
    quoted_words = content_words(" ".join(sources))
    if len(own_words - quoted_words) > MAX_WORDS_NOT_QUOTED:
        problems.append("uses words its quotes do not")
    elif sources and not (own_words & quoted_words) and not facts:
        problems.append("says nothing its quotes state")
    if misquoted := quotations_not_in(body, sources):
        # 'The document states that "Staff must not post photographs of patients, clients, or the
        # inside…"': a comma the quote lacks, and a permission beside it turned into a ban. Words
        # in quotation marks claim to be the document's; they must be, as written.
        problems.append("puts in quotation marks words its quotes do not say: " + shortened(misquoted, chars=40))
    if YES_OR_NO.search(body):
        problems.append("answers yes or no, which the appliance cannot check against the quotes")
    if MARKUP.search(body):
        problems.append("contains markup")
    if repeats_itself(body):
        problems.append("repeats itself")
    return problems


QUOTATION = re.compile(r"[\"\u201c\u201e]([^\"\u201c\u201d\u201e]{12,}?)[\"\u201d]")
ELLIPSIS = re.compile(r"\s*(?:\u2026|\.\.\.)\s*")


def quotations_not_in(answer: str, sources: Sequence[str]) -> list[str]:
    """The passages ANSWER puts in quotation marks that SOURCES do not contain as written (case and
    spacing aside; an ellipsis may stand for left-out words, and a final full stop may be added)."""
    quoted = comparable(" ".join(sources))
    wrong = []
    for match in QUOTATION.finditer(answer):
        parts = [comparable(part).rstrip(".") for part in ELLIPSIS.split(match[1])]
        if not all(part in quoted for part in parts if part):
            wrong.append(match[1].strip())
    return wrong


def numbers_joined_across_sentences(answer: str, sources: Sequence[str]) -> list[str]:
    """The numbers of the first sentence of ANSWER whose numbers no single sentence of SOURCES
    states together; [] when each answer sentence's numbers share a quoted sentence."""
    quoted = [comparable(sentence) for source in sources for sentence in sentences_in(source)]
    for sentence in sentences_in(answer):
        numbers = list(dict.fromkeys(FACT_NUMBER.findall(CITATION.sub(" ", sentence))))
        if len(numbers) > 1 and not any(all(fact_in(n, q) for n in numbers) for q in quoted):
            return numbers
    return []


def sentences_in(text: str) -> list[str]:
    """TEXT cut where evidence selection cuts sentences (evidence.SENTENCE_BREAK)."""
    bounds = [0, *(edge for m in SENTENCE_BREAK.finditer(text) for edge in (m.start(), m.end())), len(text)]
    return [text[start:end] for start, end in zip(bounds[::2], bounds[1::2]) if text[start:end].strip()]


FIGURE_WITH_CONTEXT = re.compile(
    r"(?P<before>[^\W\d_]+|[€$£])?\s*(?P<figure>\d+(?:[.,:/-]\d+)*|\b(?:" + NUMBER_WORDS + r")\b)"
    r"\s*(?P<after>%|[^\W\d_]+)?", re.IGNORECASE)
CURRENCIES = {"eur", "euro", "euros", "usd", "dollar", "dollars", "gbp", "pound", "pounds", "chf", "€", "$", "£"}
CURRENCY = re.compile(r"\b(?:eur|euros?|usd|dollars?|gbp|pounds?|chf)\b|[€$£]", re.IGNORECASE)
LINKING_WORDS = {"a", "an", "the", "at", "to", "on", "from", "up", "is", "are", "was", "of", "in", "by", "for", "and",
                 "or", "per", "than", "till", "until", "it", "its", "be"}
WORD_TOKEN = re.compile(r"[^\W_][\w'-]*")


def figures_left_out(answer: str, quote: str) -> list[str]:
    """The figures of QUOTE of a kind the answer states (a time, an amount, a count of days...)
    that the answer leaves out, unless each figure the answer gives of that kind follows the same
    word there as in the quote ("opens at 8:00" from "opens at 8:00 and closes at 18:00")."""
    stated = list(FIGURE_WITH_CONTEXT.finditer(answer))
    kinds = {figure_kind(m) for m in stated}
    left_out = [m for m in FIGURE_WITH_CONTEXT.finditer(quote)
                if figure_kind(m) in kinds and not fact_in(m["figure"], comparable(answer))]
    unanchored = {figure_kind(m) for m in stated if not anchored(m["figure"], answer, quote)}
    return [m["figure"] for m in left_out if figure_kind(m) in unanchored]


def anchored(figure: str, answer: str, quote: str) -> bool:
    """Whether FIGURE follows the same word in ANSWER as in QUOTE (stop words, currencies and
    other figures skipped; words compared on their first five letters)."""
    return word_before(figure, answer) == word_before(figure, quote) != ""


def word_before(figure: str, text: str) -> str:
    at = text.casefold().find(figure.casefold())
    if at < 0:
        return ""
    for word in reversed(WORD_TOKEN.findall(text[:at].casefold())):
        if word not in STOPWORDS and word not in LINKING_WORDS and word not in CURRENCIES and not word[0].isdigit():
            return word[:5]
    return ""


def figure_kind(match: re.Match) -> str:
    """"time" (08:30), "money" (EUR 220, 220 euros), "%", or the unit word after it, cut to four
    letters ("days", "day" and "days'" are one kind); "number" when nothing says."""
    before, after = (match["before"] or "").casefold(), (match["after"] or "").casefold()
    if ":" in match["figure"]:
        return "time"
    if before in CURRENCIES or after in CURRENCIES:
        return "money"
    return after[:4] or "number"


def shortened(values: list[str], most: int = 3, chars: int = 20) -> str:
    """VALUES for a message the analyst reads: a model's made-up figure can be "12.12.12.12..." at length."""
    values = list(dict.fromkeys(values))
    listed = ", ".join(value if len(value) <= chars else value[:chars] + "…" for value in values[:most])
    return listed + (f" and {len(values) - most} more" if len(values) > most else "")


def facts_of(text: str) -> list[str]:
    """The numbers, identifiers, number words and names in TEXT, as written."""
    return (FACT_NUMBER.findall(text) + FACT_IDENTIFIER.findall(text) + NUMBER_WORD.findall(text)
            + [name for name in FACT_NAME.findall(text) if name.casefold() not in STOPWORDS])


def fact_in(fact: str, evidence: str) -> bool:
    """Whether FACT appears in EVIDENCE as a whole token: "22" is not in "EUR 220"."""
    pattern = r"(?<![\w.,])" + re.escape(comparable(fact)) + r"(?![\w]|[.,:]\d)"
    return re.search(pattern, evidence) is not None


def repeats_itself(text: str) -> bool:
    """A sentence said twice, or four words in a row said three times."""
    sentences = [comparable(s) for s in SENTENCE.findall(text) if len(s.split()) >= 3]
    if len(sentences) != len(set(sentences)):
        return True
    words = comparable(text).split()
    grams = Counter(tuple(words[i:i + 4]) for i in range(len(words) - 3))
    return bool(grams) and max(grams.values()) >= 3


def check_prompt_echo(answer: AnswerUnderCheck) -> None:
    restates = answer.final and comparable(CITATION.sub("", answer.text)).rstrip(" .?") == comparable(answer.question).rstrip(" .?")
    if PROMPT_MARKUP.search(answer.text) or restates:
        answer.checks.append(OutputCheck("prompt echo", False, "The answer repeats the prompt instead of answering it."))
    else:
        answer.checks.append(OutputCheck("prompt echo", True, "The answer does not repeat the prompt."))


def content_words(text: str) -> set[str]:
    """TEXT's words that carry meaning, cut to 5 letters ("reimbursed" and "reimburses" match); a
    currency's names are one word."""
    words = {word[:5] for word in (w.lower() for w in WORD.findall(text)) if word not in STOPWORDS | CURRENCIES}
    return words | {"¤"} if CURRENCY.search(text) else words


def comparable(text: str) -> str:
    """TEXT for "does this value appear there?": case and runs of whitespace do not matter."""
    return " ".join(text.casefold().split())
