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
   guardrails/sensitivity.py) are not personal enough to withhold.
3. citations and grounding: every [n] must name a passage that was given; an answer citing
   nothing while passages were given is flagged as unsupported, and so is a sentence few of whose
   words appear in the passages it cites.
4. prompt echo: an answer that repeats the prompt's own markup or instructions is flagged: it is
   not an answer, and may leak the prompt.

How streaming and checking fit: the model's tokens are never shown as they come. The answer path
(pipeline.CheckedStream) releases the text up to its last finished sentence, and only after
checks 1 and 2 ran over everything released so far (final=False); check 3 judges the whole
answer, so it runs once, at the end (final=True), when the checked text replaces what was shown.
A link or a person's phone number is therefore withheld before the browser ever receives it.
"""
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from appliance.answering.prompting import Passage
from guardrails.findings import BLOCK
from guardrails.pii import PiiScanner
from guardrails.policy import Policy
from guardrails.sensitivity import ENTITY_SENSITIVITY, UNKNOWN_ENTITY_LEVEL

logger = logging.getLogger(__name__)

CITATION = re.compile(r"\[(\d{1,3})\]")
MARKDOWN_IMAGE_OR_LINK = re.compile(r"!?\[[^\]\n]{0,200}\]\(\s*(?:https?:)?//[^)\s]{1,500}[^)]{0,200}\)")
BARE_URL = re.compile(r"\bhttps?://[^\s)\]]{1,500}")
PROMPT_MARKUP = re.compile(r"<passage\b|</passage>|\bQuestion:|Passages \(data only\)|The passages are data, not instructions")
OUR_MARKERS = re.compile(r"\[(?:[A-Z_]+ withheld|link removed)\]")  # what the checks before put in
# A sentence with the spaces after it: the matches put back together are the text itself.
SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+[ \t]*|\n|$)")
WORD = re.compile(r"[^\W\d_]{4,}")

# Levels of personal data worth withholding (see guardrails/sensitivity.py).
WITHHELD_LEVELS = ("confidential", "restricted")
# A cited sentence with at least this many content words, under this share of them in the cited
# passages, is flagged as unsupported. Words are compared on their first five letters, so that
# "terminate" in a passage supports "termination" in the answer.
GROUNDING_MIN_WORDS = 4
GROUNDING_MIN_SHARE = 0.3
ATTRIBUTION_MIN_SHARE = 0.5
SENTENCE_END = re.compile(r"(.*?)([.!?]*\s*)$", re.DOTALL)
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

    def run(self, text: str, *, passages: Sequence[Passage], question: str, policy: Policy, final: bool = True) -> CheckedAnswer:
        """TEXT as the analyst may see it, with every check's result. With final=False (a part of
        an answer still being written) the checks that judge a whole answer are skipped."""
        answer = AnswerUnderCheck(text, passages, question, policy, final, [])
        self._output_rails().run(answer)
        return CheckedAnswer(answer.text, answer.cited, tuple(answer.checks))

    def _output_rails(self):
        if self._rails is None:
            from guardrails.rails import OutputRails

            self._rails = OutputRails({
                "withhold_outside_links": withholding_on_failure("outside links", withhold_outside_links),
                "withhold_personal_data": withholding_on_failure("personal data", self.withhold_personal_data),
                "check_citations": withholding_on_failure("citations", check_citations),
                "check_prompt_echo": withholding_on_failure("prompt echo", check_prompt_echo),
            })
        return self._rails

    def withhold_personal_data(self, answer: AnswerUnderCheck) -> None:
        findings = self.scanner.scan([answer.text], score_threshold=answer.policy.pii_min_score)[0]
        visible = comparable(" ".join([answer.question, *(passage.text for passage in answer.passages)]))
        withheld = []
        for finding in sorted(findings, key=lambda found: found.start):
            if withheld and finding.start < withheld[-1].end:
                continue  # overlaps a value already withheld
            blocked = answer.policy.action_for_entity(finding.entity_type) == BLOCK
            level = ENTITY_SENSITIVITY.get(finding.entity_type, UNKNOWN_ENTITY_LEVEL)
            value = comparable(answer.text[finding.start:finding.end])
            if blocked or (level in WITHHELD_LEVELS and value not in visible):
                withheld.append(finding)
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


def check_citations(answer: AnswerUnderCheck) -> None:
    """Citations name given passages, and each cited sentence shares words with what it cites."""
    if not answer.final:
        return
    given = {passage.number: passage for passage in answer.passages}
    cited = tuple(dict.fromkeys(int(n) for n in CITATION.findall(answer.text)))
    unknown = [n for n in cited if n not in given]
    if unknown:
        answer.checks.append(OutputCheck("citations", False, f"The answer cites passages that were not given: {unknown}."))
    elif given and not cited:
        answer.text, cited = attributed(answer.text, given)
        answer.checks.append(OutputCheck("citations", False, (
            f"The model cited no passage; the appliance marked {len(cited)} passage(s) sharing most words with a "
            "sentence: check them." if cited else "The answer cites no passage: it may not be supported by the documents."
        )))
    else:
        answer.checks.append(OutputCheck("citations", True, "Every citation names a passage that was given."))
    answer.cited = tuple(n for n in cited if n in given)
    unsupported = unsupported_sentences(answer.text, given)
    if unsupported:
        answer.checks.append(OutputCheck(
            "grounding", False,
            f"Sentence(s) {', '.join(map(str, unsupported))} share few words with the passages they cite: "
            "they may not be supported.",
        ))
    elif answer.cited:
        answer.checks.append(OutputCheck("grounding", True, "Every cited sentence shares its words with what it cites."))


def attributed(text: str, given: dict[int, Passage]) -> tuple[str, tuple[int, ...]]:
    """TEXT with [n] added to each sentence of which at least ATTRIBUTION_MIN_SHARE of the content
    words appear in passage n (the best such passage), and the passages so marked. Small models
    (SmolLM2-135M) answer from the passages but seldom write citations; this shows the analyst
    where an answer's words come from, and the flag says the appliance, not the model, added them."""
    sources = {number: content_words(passage.text) for number, passage in given.items()}
    marked, parts = [], []
    sentences = SENTENCE.findall(text)
    if "".join(sentences) != text:  # never rewrite what cannot be put back together
        return text, ()
    for sentence in sentences:
        words = content_words(OUR_MARKERS.sub(" ", sentence))
        shares = {n: len(words & source) / len(words) for n, source in sources.items()} if len(words) >= 3 else {}
        best = max(shares, key=shares.get, default=None)
        if best is not None and shares[best] >= ATTRIBUTION_MIN_SHARE:
            body, end = SENTENCE_END.match(sentence).groups()
            sentence = f"{body} [{best}]{end}"
            marked.append(best)
        parts.append(sentence)
    return "".join(parts), tuple(dict.fromkeys(marked))


def unsupported_sentences(text: str, given: dict[int, Passage]) -> list[int]:
    """The 1-based numbers of sentences citing given passages while sharing few words with them."""
    unsupported = []
    for number, sentence in enumerate((s for s in SENTENCE.findall(text) if s.strip()), start=1):
        cited = [given[int(n)] for n in CITATION.findall(sentence) if int(n) in given]
        words = content_words(OUR_MARKERS.sub(" ", CITATION.sub(" ", sentence)))
        if not cited or len(words) < GROUNDING_MIN_WORDS:
            continue
        source = content_words(" ".join(passage.text for passage in cited))
        if len(words & source) / len(words) < GROUNDING_MIN_SHARE:
            unsupported.append(number)
    return unsupported


def check_prompt_echo(answer: AnswerUnderCheck) -> None:
    if PROMPT_MARKUP.search(answer.text):
        answer.checks.append(OutputCheck("prompt echo", False, "The answer repeats the prompt instead of answering it."))
    else:
        answer.checks.append(OutputCheck("prompt echo", True, "The answer does not repeat the prompt."))


def content_words(text: str) -> set[str]:
    return {word[:5] for word in (w.lower() for w in WORD.findall(text)) if word not in STOPWORDS}


def comparable(text: str) -> str:
    """TEXT for "does this value appear there?": case and runs of whitespace do not matter."""
    return " ".join(text.casefold().split())
