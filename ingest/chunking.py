"""Cutting a parsed document into chunks that the embedding model reads whole.

Why about 160 words, and never more than 200: all-MiniLM-L6-v2 truncates its input at 256 word
pieces, and English runs about 1.3 word pieces per word, so 200 words is the most that is still
embedded whole; aiming at 160 leaves room for long words, numbers and names, which split into
more pieces. A chunk never crosses a section boundary, so its section label is true of all of it.

Every chunk is a contiguous span of document_text(parsed): the offsets let the appliance show a
passage in its document.
"""
import re
from dataclasses import dataclass

from ingest.parsing import ParsedDocument

BLOCK_SEPARATOR = "\n\n"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkDraft:
    text: str
    section: str
    page: int | None  # page of the chunk's first block
    start_char: int  # document_text(parsed)[start_char:end_char] == text
    end_char: int


@dataclass(frozen=True)
class Piece:
    """A span of the document text no longer than max_words: a block, or part of a long one."""

    start: int
    end: int
    words: int
    section: str
    page: int | None


def document_text(parsed: ParsedDocument) -> str:
    return BLOCK_SEPARATOR.join(block.text for block in parsed.blocks)


def chunk_document(parsed: ParsedDocument, *, target_words: int = 160, max_words: int = 200) -> list[ChunkDraft]:
    """Chunks of PARSED in document order: blocks of one section packed until the next would pass
    TARGET_WORDS; a block over MAX_WORDS is cut at sentence ends (a sentence over MAX_WORDS, by
    words). Raises ValueError for a TARGET_WORDS under 20 or a MAX_WORDS under TARGET_WORDS."""
    if target_words < 20:
        raise ValueError(f"target_words must be at least 20, got {target_words}")
    if max_words < target_words:
        raise ValueError(f"max_words must be at least target_words ({target_words}), got {max_words}")
    text = document_text(parsed)
    chunks, group = [], []
    for piece in pieces_of(parsed, text, max_words):
        if group and (piece.section != group[0].section or sum(p.words for p in group) + piece.words > target_words):
            chunks.append(draft_of(group, text))
            group = []
        group.append(piece)
    if group:
        chunks.append(draft_of(group, text))
    return chunks


def draft_of(group: list[Piece], text: str) -> ChunkDraft:
    start, end = group[0].start, group[-1].end
    return ChunkDraft(text[start:end], group[0].section, group[0].page, start, end)


def pieces_of(parsed: ParsedDocument, text: str, max_words: int) -> list[Piece]:
    pieces, offset = [], 0
    for block in parsed.blocks:
        block_end = offset + len(block.text)
        for start, end in split_span(text, offset, block_end, max_words):
            pieces.append(Piece(start, end, count_words(text, start, end), block.section, block.page))
        offset = block_end + len(BLOCK_SEPARATOR)
    return pieces


def split_span(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """TEXT[START:END] as trimmed spans of at most MAX_WORDS words: whole if it fits, else its
    sentences, and a sentence that is still too long in runs of MAX_WORDS words."""
    start, end = trim(text, start, end)
    if start == end:
        return []
    if count_words(text, start, end) <= max_words:
        return [(start, end)]
    spans = []
    for sentence_start, sentence_end in sentences(text, start, end):
        if count_words(text, sentence_start, sentence_end) <= max_words:
            spans.append((sentence_start, sentence_end))
        else:
            spans.extend(word_runs(text, sentence_start, sentence_end, max_words))
    return spans


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [(match.start(), match.end()) for match in SENTENCE_END.finditer(text, start, end)]
    starts = [start] + [cut_end for _, cut_end in cuts]
    ends = [cut_start for cut_start, _ in cuts] + [end]
    return list(zip(starts, ends))


def word_runs(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    words = list(WORD.finditer(text, start, end))
    runs = [words[index:index + max_words] for index in range(0, len(words), max_words)]
    return [(run[0].start(), run[-1].end()) for run in runs]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """START and END moved inward past whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def count_words(text: str, start: int, end: int) -> int:
    return sum(1 for _ in WORD.finditer(text, start, end))
