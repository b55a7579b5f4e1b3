"""Windows of a question's readings, sized for the embedding model.

MiniLM reads at most 256 word pieces and silently drops the rest, so an instruction appended to a
long question would never reach the injection classifier or the topic detector. Each reading is
cut into windows of WINDOW_WORDS words overlapping by half, and every window is embedded
(without its emoji, see without_symbols).
"""
import re
import unicodedata
from dataclasses import dataclass

from guardrails.normalisation import NormalisedQuestion

WINDOW_WORDS = 120
WINDOW_STEP = 60
MAX_WINDOWS = 64  # 100,000 characters of words would make ~300; the rules still read everything

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Window:
    text: str
    start: int    # span in the question as received
    end: int
    reading: str  # origin of the reading it was cut from


def windows_of(question: NormalisedQuestion) -> list[Window]:
    windows = []
    for reading in question.readings:
        words = [(m.start(), m.end()) for m in _WORD.finditer(reading.text)]
        if not words:
            continue
        for first in range(0, max(1, len(words) - WINDOW_WORDS + WINDOW_STEP), WINDOW_STEP):
            last = min(first + WINDOW_WORDS, len(words)) - 1
            begin, stop = words[first][0], words[last][1]
            start, end = question.original_span(reading, begin, stop)
            windows.append(Window(without_symbols(reading.text[begin:stop]), start, end, reading.origin))
            if len(windows) >= MAX_WINDOWS:
                return windows
    return windows


def without_symbols(text: str) -> str:
    """TEXT without emoji and other pictographic symbols. They carry no instructions, and MiniLM
    reads each as an unknown word piece, which pushed benign questions with an emoji towards the
    attack side of the classifier."""
    kept = "".join(" " if unicodedata.category(ch) == "So" else ch for ch in text)
    return " ".join(kept.split()) or text
