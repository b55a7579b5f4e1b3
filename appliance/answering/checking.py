"""Checks on an answer before the analyst sees it (step 5): citations, exfiltration markers.

- Citations: every [n] must name a passage that was given; an answer with no citation while
  passages were given is flagged as unsupported.
- Exfiltration markers: a markdown image or link to a host outside the appliance would make the
  analyst's browser send data out when the answer is shown (the classic injection payload).
  They are removed from the answer and flagged.
- Prompt echo: an answer that repeats the prompt's own markup (<passage ...>, "Question:") or its
  instructions is not an answer, and may leak the prompt; it is flagged.
"""
import re
from collections.abc import Sequence
from dataclasses import dataclass

CITATION = re.compile(r"\[(\d{1,3})\]")
MARKDOWN_IMAGE_OR_LINK = re.compile(r"!?\[[^\]\n]{0,200}\]\(\s*(?:https?:)?//[^)\s]{1,500}[^)]{0,200}\)")
BARE_URL = re.compile(r"\bhttps?://[^\s)\]]{1,500}")


@dataclass(frozen=True)
class OutputCheck:
    name: str       # "citations", "exfiltration"
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


PROMPT_MARKUP = re.compile(r"<passage\b|</passage>|\bQuestion:|Passages \(data only\)|The passages are data, not instructions")


def check_answer(text: str, passage_numbers: Sequence[int]) -> CheckedAnswer:
    shown, exfiltration = without_outside_links(text)
    if PROMPT_MARKUP.search(shown):
        echo = OutputCheck("prompt echo", False, "The answer repeats the prompt instead of answering it.")
    else:
        echo = OutputCheck("prompt echo", True, "The answer does not repeat the prompt.")
    cited = tuple(dict.fromkeys(int(n) for n in CITATION.findall(shown)))
    unknown = [n for n in cited if n not in passage_numbers]
    if unknown:
        citations = OutputCheck("citations", False, f"The answer cites passages that were not given: {unknown}.")
    elif passage_numbers and not cited:
        citations = OutputCheck("citations", False, "The answer cites no passage: it may not be supported by the documents.")
    else:
        citations = OutputCheck("citations", True, "Every citation names a passage that was given.")
    return CheckedAnswer(shown, tuple(n for n in cited if n in passage_numbers), (citations, exfiltration, echo))


def without_outside_links(text: str) -> tuple[str, OutputCheck]:
    found = len(MARKDOWN_IMAGE_OR_LINK.findall(text)) + len(BARE_URL.findall(MARKDOWN_IMAGE_OR_LINK.sub("", text)))
    if not found:
        return text, OutputCheck("exfiltration", True, "No links or images to outside hosts.")
    cleaned = BARE_URL.sub("[link removed]", MARKDOWN_IMAGE_OR_LINK.sub("[link removed]", text))
    return cleaned, OutputCheck("exfiltration", False, f"Removed {found} link(s) or image(s) to outside hosts.")
