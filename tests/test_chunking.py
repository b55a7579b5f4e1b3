"""ingest.chunking: chunks are exact spans of the document text, within one section, never too long."""
import pytest

from ingest.chunking import ChunkDraft, chunk_document, document_text
from ingest.parsing import Block, ParsedDocument, parse_document
from tests import documents


def parsed_of(*blocks: Block, file_type: str = "text") -> ParsedDocument:
    return ParsedDocument(file_type, tuple(blocks))


def word_count(text: str) -> int:
    return len(text.split())


def long_handbook() -> bytes:
    """Markdown with sections of short and long paragraphs, a list and a paragraph with no sentence end."""
    paragraphs = [
        "# Fees", documents.LOREM * 2, documents.LOREM * 9, "- " + documents.LOREM,
        "## Late payment", documents.LOREM * 3, documents.words(450),
        "# Refunds", "Refunds take ten days.", documents.LOREM * 5,
    ]
    return "\n\n".join(paragraphs).encode()


SAMPLES = {
    "handbook.pdf": documents.pdf([[documents.LOREM[:90], documents.LOREM[90:180]], [], ["Refunds take ten days."]]),
    "handbook.docx": documents.fees_docx(),
    "handbook.html": documents.html_page(),
    "handbook.md": documents.markdown_text(),
    "long.md": long_handbook(),
    "long.txt": long_handbook(),
    "staff.csv": b"name,role\n" + b"".join(b"Person %d,Role %d\n" % (n, n) for n in range(200)),
    "terms.eml": documents.eml(),
}


@pytest.mark.parametrize("filename", SAMPLES)
def test_it_gives_offsets_that_hold_exactly(filename):
    parsed = parse_document(SAMPLES[filename], filename, max_bytes=25_000_000, max_unzipped_bytes=100_000_000)
    text = document_text(parsed)

    chunks = chunk_document(parsed)

    assert chunks
    for chunk in chunks:
        assert text[chunk.start_char:chunk.end_char] == chunk.text
        assert chunk.text == chunk.text.strip() != ""
        assert word_count(chunk.text) <= 200
    assert [chunk.start_char for chunk in chunks] == sorted(chunk.start_char for chunk in chunks)


@pytest.mark.parametrize("filename", SAMPLES)
def test_it_never_mixes_sections_in_a_chunk(filename):
    parsed = parse_document(SAMPLES[filename], filename, max_bytes=25_000_000, max_unzipped_bytes=100_000_000)
    spans, offset = [], 0
    for block in parsed.blocks:
        spans.append((offset, offset + len(block.text), block.section))
        offset += len(block.text) + 2

    for chunk in chunk_document(parsed, target_words=20, max_words=40):
        sections = {section for start, end, section in spans if start < chunk.end_char and chunk.start_char < end}
        assert sections == {chunk.section}


def test_it_puts_the_document_text_together_with_blank_lines():
    parsed = parsed_of(Block("One.", "", None), Block("Two.", "", None))

    assert document_text(parsed) == "One.\n\nTwo."


def test_it_packs_blocks_of_a_section_until_the_target():
    fifty = documents.words(50)
    parsed = parsed_of(*[Block(fifty, "Fees", 2)] * 4, Block("Short one.", "Refunds", 3))
    block = len(fifty) + 2

    chunks = chunk_document(parsed)

    assert chunks == [
        ChunkDraft("\n\n".join([fifty] * 3), "Fees", 2, 0, 3 * block - 2),
        ChunkDraft(fifty, "Fees", 2, 3 * block, 4 * block - 2),
        ChunkDraft("Short one.", "Refunds", 3, 4 * block, 4 * block + len("Short one.")),
    ]


def test_it_starts_a_new_chunk_at_each_section():
    parsed = parsed_of(Block("Alpha.", "A", None), Block("Beta.", "B", None), Block("Gamma.", "A", None))

    assert [(chunk.text, chunk.section) for chunk in chunk_document(parsed)] == [
        ("Alpha.", "A"), ("Beta.", "B"), ("Gamma.", "A"),
    ]


def test_it_keeps_the_page_of_a_chunks_first_block():
    parsed = parsed_of(Block("End of page one.", "", 1), Block("Start of page two.", "", 2))

    assert [(chunk.text, chunk.page) for chunk in chunk_document(parsed)] == [
        ("End of page one.\n\nStart of page two.", 1),
    ]


def test_it_splits_a_long_paragraph_at_sentence_ends():
    sentence = documents.words(29) + " end."
    paragraph = "  " + " ".join([sentence] * 12) + "  "  # 360 words, and whitespace to trim

    chunks = chunk_document(parsed_of(Block(paragraph, "Fees", None)))

    assert [word_count(chunk.text) for chunk in chunks] == [150, 150, 60]
    for chunk in chunks:
        assert chunk.text.startswith("word1 ") and chunk.text.endswith(" end.")
        assert paragraph[chunk.start_char:chunk.end_char] == chunk.text


def test_it_splits_a_sentence_longer_than_max_words_by_words():
    paragraph = documents.words(450) + ". Then a short one."

    chunks = chunk_document(parsed_of(Block(paragraph, "", None)))

    assert [chunk.text for chunk in chunks] == [
        documents.words(450)[: len(documents.words(200))],
        " ".join(f"word{n}" for n in range(201, 401)),
        " ".join(f"word{n}" for n in range(401, 451)) + ". Then a short one.",
    ]


def test_it_never_goes_over_max_words():
    parsed = parse_document(long_handbook(), "long.md", max_bytes=25_000_000, max_unzipped_bytes=100_000_000)

    for target_words, max_words in [(20, 20), (20, 35), (60, 80), (160, 200)]:
        chunks = chunk_document(parsed, target_words=target_words, max_words=max_words)
        assert max(word_count(chunk.text) for chunk in chunks) <= max_words


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"target_words": 19}, "target_words must be at least 20, got 19"),
        ({"target_words": 160, "max_words": 150}, "max_words must be at least target_words (160), got 150"),
    ],
)
def test_it_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError) as caught:
        chunk_document(parsed_of(Block("Text.", "", None)), **arguments)

    assert str(caught.value) == message
