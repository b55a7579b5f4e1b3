"""Reading an uploaded file into text blocks: the type by content, then one small parser per format.

Every way a file can be unusable ends in IngestRejected, with a message for the admin at the
screen (what is wrong, what to do) and a short code for the logs and the trace. pypdf and
python-docx fail in many different ways on a damaged file, and to the admin they all mean the
same thing, so their calls are wrapped and turned into one rejection with the library's error as
its cause; our own code stays outside those wrappers, so a bug still shows as a bug.
"""
import codecs
import csv
import email
import email.policy
import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath

import charset_normalizer
import docx
import magic
from bs4 import BeautifulSoup, NavigableString
from bs4.element import PreformattedString
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from appliance.errors import IngestRejected

logger = logging.getLogger(__name__)

ACCEPTED_TYPES = "PDF, DOCX, HTML, Markdown, plain text, CSV and EML"
ACCEPTED_EXTENSIONS = ".pdf, .docx, .txt, .text, .md, .markdown, .csv, .html, .htm and .eml"

# Text-like content is parsed by its extension: libmagic cannot tell Markdown from plain text.
TEXT_EXTENSIONS = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
    ".html": "html", ".htm": "html", ".eml": "eml",
}
EXTENSION_TYPES = {".pdf": "pdf", ".docx": "docx", **TEXT_EXTENSIONS}
TYPE_NAMES = {
    "pdf": "a PDF", "docx": "a Word document (DOCX)", "text": "plain text", "markdown": "Markdown",
    "csv": "CSV", "html": "HTML", "eml": "an email (EML)",
}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_NAMES = {
    "application/zip": "a zip archive",
    "application/x-executable": "a program",
    "application/x-pie-executable": "a program",
    "application/x-sharedlib": "a program or library",
    "application/x-dosexec": "a Windows program",
    "application/vnd.microsoft.portable-executable": "a Windows program",
    "application/msword": "an old-format Word document (.doc)",
    "application/vnd.ms-excel": "an Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "a PowerPoint presentation",
    "application/json": "JSON data",
    "application/octet-stream": "binary data of an unknown kind",
}
MIME_FAMILY_NAMES = {"image/": "an image", "audio/": "audio", "video/": "a video", "font/": "a font"}
MAGIC_SAMPLE_BYTES = 65536
# Zip bombs: no part of a DOCX, nor member of an uploaded zip archive, may expand more than this
# many times; their total is capped by INGEST_MAX_UNZIPPED_MB.
MAX_ZIP_RATIO = 100
MAX_ARCHIVE_MEMBERS = 10_000  # entries in an uploaded zip archive, folders included


@dataclass(frozen=True)
class Block:
    text: str  # one paragraph / list item / table row / CSV row / PDF page paragraph
    section: str  # heading path joined with " > ", "" when none
    page: int | None  # 1-based page for PDFs, None for formats without pages


@dataclass(frozen=True)
class ParsedDocument:
    file_type: str  # "pdf", "docx", "html", "markdown", "text", "csv" or "eml"
    blocks: tuple[Block, ...]


def parse_document(data: bytes, filename: str, *, max_bytes: int, max_unzipped_bytes: int) -> ParsedDocument:
    """Parse DATA into blocks of text with their section (and page, for PDFs).

    Raises IngestRejected when the file is too large, empty, of a type we do not accept, named
    with the wrong extension, damaged, protected, or holds no text.
    """
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    file_type = detect_file_type(data, filename)
    if file_type == "pdf":
        blocks = parse_pdf(data, filename)
    elif file_type == "docx":
        blocks = parse_docx(data, filename, max_unzipped_bytes)
    elif file_type == "eml":
        blocks = parse_email(data, filename)
    elif file_type == "csv":
        blocks = parse_csv(decode_text(data, filename), filename)
    elif file_type == "html":
        blocks = parse_html(decode_text(data, filename))
    elif file_type == "markdown":
        blocks = parse_markdown(decode_text(data, filename))
    else:
        blocks = parse_plain_text(decode_text(data, filename))
    blocks = tuple(block for block in blocks if block.text)
    if not blocks:
        raise IngestRejected(f"“{filename}” contains no text to index.", code="no_text")
    return ParsedDocument(file_type, blocks)


def too_large(size: int, max_bytes: int) -> IngestRejected:
    """The refusal for a file over the size limit (also checked at upload, before reading)."""
    return IngestRejected(
        f"The file is {size / 1_000_000:.1f} MB; the limit is {max_bytes / 1_000_000:g} MB (INGEST_MAX_FILE_MB).",
        code="too_large",
    )


# -- Type by content ------------------------------------------------------------------------------


def detect_file_type(data: bytes, filename: str) -> str:
    """Decide the type by content (libmagic), checked against the extension; returns one of the
    ParsedDocument file types. Raises IngestRejected for an empty file, a type we do not accept,
    an extension we do not accept, or an extension that does not match the content."""
    if not data:
        raise IngestRejected(f"“{filename}” is empty (0 bytes); there is nothing to index.", code="empty_file")
    mime = magic.from_buffer(data[:MAGIC_SAMPLE_BYTES], mime=True)
    content = content_kind(data, mime)
    named = EXTENSION_TYPES.get(PurePath(filename).suffix.lower())
    if named is None and content is None:
        raise IngestRejected(
            f"“{filename}” is {describe_mime(mime)}, which cannot be indexed. Accepted types: {ACCEPTED_TYPES}.",
            code="unsupported_type",
        )
    if named is None:
        raise IngestRejected(
            f"“{filename}” has an extension the appliance does not accept. Accepted extensions: {ACCEPTED_EXTENSIONS}.",
            code="unknown_extension",
        )
    if content == named or (content == "text" and named in TEXT_EXTENSIONS.values()):
        return named
    content_name = {"pdf": "a PDF", "docx": "a Word document (DOCX)", "text": "text"}.get(content) or describe_mime(mime)
    raise IngestRejected(
        f"“{filename}” is named as {TYPE_NAMES[named]} but its content is {content_name}; "
        "upload the right file, or give it the extension of its content.",
        code="type_mismatch",
    )


def content_kind(data: bytes, mime: str) -> str | None:
    """"pdf", "docx" or "text" for content we accept, None for anything else."""
    if mime == "application/pdf":
        return "pdf"
    if mime == DOCX_MIME or (mime in ("application/zip", "application/octet-stream") and has_word_document(data)):
        return "docx"
    if mime.startswith("text/") or mime == "message/rfc822":
        return "text"
    return None


def has_word_document(data: bytes) -> bool:
    """Whether DATA is a zip with a word/document.xml member (reads the zip's directory only)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        return False


def describe_mime(mime: str) -> str:
    """What a MIME type is, in words an admin knows, with the type itself for the precise reader."""
    family = next((name for prefix, name in MIME_FAMILY_NAMES.items() if mime.startswith(prefix)), None)
    name = MIME_NAMES.get(mime) or family or "a file of another type"
    return f"{name} ({mime})"


# -- PDF ------------------------------------------------------------------------------------------


def parse_pdf(data: bytes, filename: str) -> list[Block]:
    """One block per paragraph of each page's text layer (per line when the page has no blank lines),
    under the section of the PDF's outline (bookmarks), or of the headings in its text when it has none."""
    reader = open_pdf(data, filename)
    if reader.is_encrypted:
        # Also when the user password is empty: the author restricted the file, and we do not
        # decide on their behalf which restrictions matter.
        raise IngestRejected(
            f"“{filename}” is password-protected (encrypted), so the appliance cannot read it; "
            "upload a copy without the password or protection.",
            code="encrypted_pdf",
        )
    pages = [split_page_text(page_text) for page_text in extract_page_texts(reader, filename)]
    entries = pdf_outline(reader, filename)
    blocks = sections_from_outline(pages, entries) if entries else sections_from_page_text(pages)
    if not blocks:
        raise IngestRejected(
            f"“{filename}” has no text layer (it is probably a scanned image), and OCR is not supported; "
            "upload a PDF with selectable text.",
            code="no_text_layer",
        )
    return blocks


def corrupt_pdf(filename: str) -> IngestRejected:
    return IngestRejected(
        f"“{filename}” is a damaged PDF that the appliance cannot read; save or export it again and upload the new copy.",
        code="corrupt_pdf",
    )


def open_pdf(data: bytes, filename: str) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(data))
    except Exception as error:  # pypdf raises many kinds of error on a damaged file
        raise corrupt_pdf(filename) from error


def extract_page_texts(reader: PdfReader, filename: str) -> list[str]:
    try:
        return [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many kinds of error on a damaged file
        raise corrupt_pdf(filename) from error


@dataclass(frozen=True)
class OutlineEntry:
    page: int  # 0-based index of the page the entry points to
    depth: int  # 1 for a top-level entry
    title: str


def pdf_outline(reader: PdfReader, filename: str) -> list[OutlineEntry]:
    """The outline's entries in outline order, [] when the PDF has none.

    A damaged outline costs the sections, not the document: the text is still good, so the
    error is logged and the PDF read as if it had no outline.
    """
    try:
        return list(outline_entries(reader, reader.outline, 1))
    except Exception:  # pypdf raises many kinds of error on a damaged outline
        logger.warning(
            "The outline of “%s” is damaged; its sections come from its text instead.", filename, exc_info=True
        )
        return []


def outline_entries(reader: PdfReader, items: list, depth: int):
    for item in items:
        if isinstance(item, list):  # pypdf lists an entry's children right after it
            yield from outline_entries(reader, item, depth + 1)
            continue
        page = reader.get_destination_page_number(item)
        title = collapse_spaces(str(item.title or ""))
        if page is not None and page >= 0 and title:
            yield OutlineEntry(page, depth, title)


def sections_from_outline(pages: list[list[str]], entries: list[OutlineEntry]) -> list[Block]:
    """Blocks under the deepest outline path started at or before their place.

    An entry starts at the paragraph that begins with its title when the page shows it, else at
    the top of its page; entries of one page are taken in outline order.
    """
    sections, blocks = SectionPath(), []
    for index, paragraphs in enumerate(pages):
        starting = [entry for entry in entries if entry.page == index]
        shown = {id(entry) for entry in starting if any(begins_with(text, entry.title) for text in paragraphs)}
        for paragraph in paragraphs:
            while starting and (id(starting[0]) not in shown or begins_with(paragraph, starting[0].title)):
                entry = starting.pop(0)
                sections.enter(entry.depth, entry.title)
            blocks.append(Block(paragraph, sections.section, index + 1))
        for entry in starting:  # titles found out of outline order: they still start by the page's end
            sections.enter(entry.depth, entry.title)
    return blocks


def begins_with(paragraph: str, title: str) -> bool:
    return collapse_spaces(paragraph).casefold().startswith(title.casefold())


def sections_from_page_text(pages: list[list[str]]) -> list[Block]:
    """Blocks under the headings found in the text, read as in plain text (TextOutline) across
    page breaks; heading lines stay blocks, as the page shows them."""
    outline, blocks = TextOutline(), []
    paragraphs = [(number, paragraph) for number, page in enumerate(pages, start=1) for paragraph in page]
    for index, (number, paragraph) in enumerate(paragraphs):
        following = paragraphs[index + 1][1].split("\n") if index + 1 < len(paragraphs) else []
        outline.read(paragraph.split("\n"), following)
        blocks.append(Block(paragraph, outline.section, number))
    return blocks


def split_page_text(text: str) -> list[str]:
    text = normalise_newlines(text)
    parts = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return [part.strip() for part in parts if part.strip()]


# -- DOCX -----------------------------------------------------------------------------------------


def parse_docx(data: bytes, filename: str, max_unzipped_bytes: int) -> list[Block]:
    """One block per paragraph and per table row (cells joined with " | "); headings (heading_level)
    build the section path."""
    check_zip_expansion(data, filename, max_unzipped_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # zipfile, lxml and python-docx each have their own errors
        raise corrupt_docx(filename) from error
    sections = SectionPath()
    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            level = heading_level(item)
            if level is not None:
                sections.enter(level, item.text)
            else:
                blocks.append(Block(item.text.strip(), sections.section, None))
        else:
            blocks.extend(Block(table_row_text(row), sections.section, None) for row in item.rows)
    return blocks


def corrupt_docx(filename: str) -> IngestRejected:
    return IngestRejected(
        f"“{filename}” is a damaged Word document that the appliance cannot read; "
        "save it again from Word and upload the new copy.",
        code="corrupt_docx",
    )


def check_zip_expansion(data: bytes, filename: str, max_unzipped_bytes: int) -> None:
    """Refuse a DOCX whose parts would expand too far, before anything decompresses them.

    The sizes are those the zip declares; that is enough, because zipfile never inflates a
    member past its declared size (a lying member fails its CRC check instead).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise corrupt_docx(filename) from error
    total = sum(member.file_size for member in members)
    if total > max_unzipped_bytes:
        raise IngestRejected(
            f"“{filename}” looks like a zip bomb, so it was not opened: it would expand to "
            f"{total / 1_000_000:.1f} MB, over the limit of {max_unzipped_bytes / 1_000_000:g} MB (INGEST_MAX_UNZIPPED_MB).",
            code="zip_bomb",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > MAX_ZIP_RATIO:
            raise IngestRejected(
                f"“{filename}” looks like a zip bomb, so it was not opened: its part {member.filename} would expand "
                f"{ratio:,.0f} times ({member.compress_size:,} to {member.file_size:,} bytes), "
                f"and more than {MAX_ZIP_RATIO} times is refused.",
                code="zip_bomb",
            )


def heading_level(paragraph: Paragraph) -> int | None:
    """The level of PARAGRAPH as a heading, None for body text: its "Heading N" style; 0 for the
    "Title" style (the path's root); its outline level; or, for a short numbered title ("4.9.1.
    Title") in bold or in a heading-like style, the depth of its number, as authors who number
    by hand make headings."""
    style_name = (paragraph.style.name if paragraph.style is not None else None) or ""
    if match := re.fullmatch(r"Heading (\d)", style_name):
        return int(match[1])
    if style_name == "Title":
        return 0
    if (level := outline_level(paragraph)) is not None:
        return level
    numbered = numbered_title(paragraph.text)
    if numbered and is_short_title(numbered[1]) and ("heading" in style_name.lower() or is_bold(paragraph)):
        return len(numbered[0])
    return None


def outline_level(paragraph: Paragraph) -> int | None:
    """1 + the w:outlineLvl of the paragraph or its style (0-8; 9 means body text), None when neither sets one."""
    elements = [paragraph._p] + ([paragraph.style.element] if paragraph.style is not None else [])
    for element in elements:
        values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if values and values[0].isdigit():
            return int(values[0]) + 1 if int(values[0]) < 9 else None
    return None


def is_bold(paragraph: Paragraph) -> bool:
    """Whether all the text of PARAGRAPH is bold, by its runs or, where a run does not say, its style."""
    style_bold = paragraph.style is not None and paragraph.style.font.bold is True
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


def table_row_text(row) -> str:
    cells = []
    for cell in row.cells:
        if cells and cell is cells[-1]:  # a merged cell is listed once per column it spans
            continue
        cells.append(cell)
    return " | ".join(text for text in (collapse_spaces(cell.text) for cell in cells) if text)


# -- Text formats ---------------------------------------------------------------------------------


BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes, filename: str) -> str:
    """DATA as text with "\\n" newlines: UTF-8 (BOM or not), UTF-16 with a BOM, else the legacy
    encoding charset_normalizer finds. Raises IngestRejected for binary or undecodable bytes."""
    codec = next((codec for bom, codec in BOMS if data.startswith(bom)), None)
    if codec is None and b"\x00" in data:
        raise unreadable_text(filename)
    try:
        text = data.decode(codec or "utf-8")
    except UnicodeDecodeError:
        encoding = None if codec else guess_legacy_encoding(data)
        if encoding is None:
            raise unreadable_text(filename) from None
        text = data.decode(encoding, errors="replace")
    if "\x00" in text:
        raise unreadable_text(filename)
    return normalise_newlines(text)


def unreadable_text(filename: str) -> IngestRejected:
    return IngestRejected(
        f"“{filename}” is not readable text (it looks binary, or its character encoding is unknown); "
        "save it as UTF-8 and upload it again.",
        code="unreadable_text",
    )


def guess_legacy_encoding(data: bytes) -> str | None:
    """charset_normalizer's guess, biased toward what old office files use.

    On a short text its ranking among single-byte code pages is close to noise (it puts French
    in cp1257 and Russian in mac_cyrillic), so: Windows-1252 whenever it is a viable reading,
    else the first Windows code page it found, else its best guess.
    """
    matches = list(charset_normalizer.from_bytes(data))
    if any("cp1252" in match.could_be_from_charset for match in matches):
        return "cp1252"
    windows = [match.encoding for match in matches if match.encoding.startswith("cp125")]
    return (windows or [match.encoding for match in matches] or [None])[0]


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())


class SectionPath:
    """The headings above the current point: a heading of level N replaces those of level N and below."""

    def __init__(self, root: str = ""):
        self.root = root
        self.headings: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        title = collapse_spaces(title)
        if title:
            self.headings = [heading for heading in self.headings if heading[0] < level] + [(level, title)]

    @property
    def section(self) -> str:
        titles = [title for _, title in self.headings]
        return " > ".join([self.root, *titles] if self.root else titles)


class BlockCollector:
    """Blocks under the current section; text added between two flushes becomes one block, TIDY-ed."""

    def __init__(self, tidy, section_root: str = ""):
        self.tidy = tidy
        self.sections = SectionPath(section_root)
        self.pending: list[str] = []
        self.blocks: list[Block] = []

    def add(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        text, self.pending = self.tidy("".join(self.pending)), []
        if text:
            self.blocks.append(Block(text, self.sections.section, None))

    def block(self, text: str) -> None:
        self.flush()
        if text.strip():
            self.blocks.append(Block(text.strip(), self.sections.section, None))

    def heading(self, level: int, title: str) -> None:
        self.flush()
        self.sections.enter(level, title)

    def take_pending(self) -> str:
        """The text added since the last flush, taken away (it was a heading's title, not a block)."""
        text, self.pending = "".join(self.pending), []
        return text


HTML_DROPPED = ["script", "style", "noscript", "iframe", "template", "svg"]
HTML_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements that end the text before them and start a block of their own.
HTML_BLOCKS = {
    "p", "li", "blockquote", "dt", "dd", "div", "section", "article", "main", "header", "footer", "nav", "aside",
    "ul", "ol", "dl", "table", "caption", "form", "fieldset", "figure", "figcaption", "address", "details",
    "summary", "hr", "body",
}
END_OF_BLOCK = object()
# After a definition list's term (<dt>) that its description (<dd>) follows: the two are one block,
# "--wait SECONDS: Wait up to SECONDS for ...", so that a quoted description names what it describes.
END_OF_TERM = object()


def parse_html(text: str, section_root: str = "") -> list[Block]:
    """Blocks of the body's text in reading order: h1-h6 build the section path, each table row is a
    block (cells joined with " | "), a definition list's term and its description are one block
    ("Grace period: Fourteen days."), scripts, styles and other hidden content are dropped."""
    soup = BeautifulSoup(text, "lxml")
    for element in soup.find_all(HTML_DROPPED):
        element.decompose()
    collector = BlockCollector(collapse_spaces, section_root)
    # A stack rather than recursion: broken HTML can nest thousands of unclosed elements.
    pending = [soup.body or soup]
    while pending:
        node = pending.pop()
        if node is END_OF_BLOCK:
            collector.flush()
        elif node is END_OF_TERM:
            term = "".join(collector.pending).rstrip()
            collector.add(" " if not term or term[-1] in ".:;!?" else ": ")
        elif node.name == "dt" and getattr(node.find_next_sibling(True), "name", None) == "dd":
            collector.flush()
            pending.append(END_OF_TERM)
            pending.extend(reversed(node.contents))
        elif node.name == "dd" and getattr(node.find_previous_sibling(True), "name", None) == "dt":
            pending.append(END_OF_BLOCK)  # no flush before: it goes on its term's block
            pending.extend(reversed(node.contents))
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype
                collector.add(str(node))
        elif node.name in HTML_HEADINGS:
            collector.heading(int(node.name[1]), node.get_text(" "))
        elif node.name == "tr":
            cells = (collapse_spaces(cell.get_text(" ")) for cell in node.find_all(["td", "th"], recursive=False))
            collector.block(" | ".join(cell for cell in cells if cell))
        elif node.name == "pre":
            collector.block(node.get_text())
        elif node.name == "br":
            collector.add("\n")
        else:
            if node.name in HTML_BLOCKS:
                collector.flush()
                pending.append(END_OF_BLOCK)
            pending.extend(reversed(node.contents))
    collector.flush()
    return collector.blocks


MARKDOWN_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
MARKDOWN_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
MARKDOWN_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
MARKDOWN_SETEXT = re.compile(r" {0,3}([=-])\1*[ \t]*")
MARKDOWN_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")


def parse_markdown(text: str) -> list[Block]:
    """ATX (# .. ######) and setext (underlined) headings build the section path; paragraphs and
    list items are blocks; a fenced code block is one block (without its fences)."""
    collector = BlockCollector(str.strip)
    fence, code = None, []
    for line in text.split("\n"):
        if fence:
            if line.strip().startswith(fence):
                collector.block("\n".join(code))
                fence, code = None, []
            else:
                code.append(line)
        elif opening := MARKDOWN_FENCE.match(line):
            collector.flush()
            fence = opening[1]
        elif heading := MARKDOWN_HEADING.fullmatch(line):
            collector.heading(len(heading[1]), heading[2] or "")
        elif (underline := MARKDOWN_SETEXT.fullmatch(line)) and is_setext_title(collector.pending):
            # "Title\n=====" and "Title\n-----": the paragraph above the line is the title (CommonMark).
            collector.heading(1 if underline[1] == "=" else 2, collector.take_pending())
        elif not line.strip() or MARKDOWN_RULE.fullmatch(line):
            collector.flush()
        else:
            if MARKDOWN_LIST_ITEM.match(line):
                collector.flush()
            collector.add(line + "\n")
    collector.block("\n".join(code))  # a fence left open runs to the end of the file
    collector.flush()
    return collector.blocks


# -- Headings in plain text -----------------------------------------------------------------------
#
# Plain text has no markup for headings, so they are read the way people mark them: a title
# underlined (and maybe overlined) with a repeated character, as in reStructuredText and setext;
# a number ("4.9.1. Title") or a keyword ("Article 12", "§ 3", "Appendix A") on a line of its own;
# an ALL CAPS, centered or short title-case line; and, in licences and contracts, a numbered title
# that opens its paragraph ("2. Grant of Copyright License. Subject to ..."). Every rule only ever
# looks at the first line of a paragraph: a number that wraps to the start of a line mid-sentence
# ("... under section\n7. This requirement ...") is not a heading.

ADORNMENT = re.compile(r"[ \t]*([=\-*~^#+])\1{2,}[ \t]*")
BOX_EDGE = re.compile(r"[ \t]*\*{10,}[ \t]*")
BOX_LINE = re.compile(r"[ \t]*\*(.*)\*[ \t]*")
NUMBERED_TITLE = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)(\.?)[ \t]+(\S.*)")
# "2. Grant of Copyright License. Subject to ...": a title of a few words, its full stop, then the text.
INLINE_TITLE = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)(\.?)[ \t]+([A-Z][^.!?:;]{0,80}?)\.[ \t]+(?=[\"“‘'(]?[A-Z])")
DEFINED_TERM = re.compile(r"[\"“][^\"”]{1,60}[\"”](?=[ \t]+(?:means|shall mean|refers)\b)")
TITLE_START = re.compile(r"[\"“‘'(]?[A-Z]")
SENTENCE_INSIDE = re.compile(r"[.!?;][ \t]+\S")
LIST_MARKER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})*[.)]|[-*+•]|\(?[a-zA-Z0-9]{1,3}\)|[a-z]\.)[ \t]+\S")
KEYWORD_HEADING = re.compile(
    r"(?P<keyword>(?i:article|section|chapter|part|appendix|annex|exhibit|schedule))"
    r"(?:[ \t]+(?P<label>\d{1,4}(?:\.\d{1,3})*[a-z]?|[IVXLCDM]{1,7}|[A-Z])\b)?(?P<rest>.*)"
)
SECTION_SIGN_HEADING = re.compile(r"(?P<keyword>§{1,2})[ \t]*(?P<label>\d{1,4}(?:\.\d{1,3})*[a-z]?)\b(?P<rest>.*)")
KEYWORD_KINDS = {"appendix": "appendix", "annex": "appendix", "exhibit": "appendix", "schedule": "appendix", "§§": "§"}
SMALL_WORDS = {
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "per", "the", "this", "to",
    "under", "vs", "with", "without",
}
MAX_TITLE_WORDS = 12
MIN_UNDERLINE_RATIO = 0.6
MIN_CENTERED_INDENT = 10


@dataclass(frozen=True)
class Underlined:
    title: str
    style: str  # "underline =", "overline =", ...: each adornment is its own heading level


@dataclass(frozen=True)
class Heading:
    title: str
    style: str  # "number", "title" (a display line), "keyword article", "underline -", ...
    number: tuple[int, ...] | None = None  # (4, 9, 1) for "4.9.1."
    is_bare: bool = False  # a keyword and label without a title ("Article 5"): the next line may name it


def parse_plain_text(text: str, section: str = "") -> list[Block]:
    """One block per paragraph, under the section path of the headings above it (TextOutline).

    A paragraph that is only a heading makes no block, as in Markdown; a paragraph that opens with
    one ("2. Grant of Copyright License. Subject to ...") stays whole, so no text is lost.
    """
    items = text_items(text)
    outline = TextOutline(section, body_indentation(item for item in items if isinstance(item, list)))
    blocks = []
    for index, item in enumerate(items):
        if isinstance(item, Underlined):
            outline.enter_underlined(item)
            continue
        following = items[index + 1] if index + 1 < len(items) and isinstance(items[index + 1], list) else []
        if outline.read(item, following):
            blocks.append(Block("\n".join(item).strip(), outline.section, None))
    return blocks


def text_items(text: str) -> list:
    """The text as paragraphs (lists of lines) and Underlined titles, in order.

    A title is underlined only when it starts its paragraph: a row of dashes after a blank line, or
    under the last line of a longer paragraph, is a rule and only ends the paragraph.
    """
    lines = unbox(text.split("\n"))
    items, paragraph, index = [], [], 0
    while index < len(lines):
        line = lines[index]
        if not paragraph and (title := adorned_title(lines, index)):
            items.append(title)
            index += 3 if title.style.startswith("overline") else 2
            continue
        if not line.strip() or ADORNMENT.fullmatch(line):
            if paragraph:
                items.append(paragraph)
            paragraph = []
        else:
            paragraph.append(line)
        index += 1
    if paragraph:
        items.append(paragraph)
    return items


def adorned_title(lines: list[str], index: int) -> Underlined | None:
    """The title at LINES[INDEX] when it is underlined, or overlined and underlined with the same character."""
    over = ADORNMENT.fullmatch(lines[index])
    if over and index + 2 < len(lines) and (under := ADORNMENT.fullmatch(lines[index + 2])) and under[1] == over[1]:
        if is_underline_for(lines[index + 1], lines[index + 2]):
            return Underlined(collapse_spaces(lines[index + 1]), f"overline {over[1]}")
    if over or index + 1 >= len(lines) or not (under := ADORNMENT.fullmatch(lines[index + 1])):
        return None
    if not is_underline_for(lines[index], lines[index + 1]):
        return None
    return Underlined(collapse_spaces(lines[index]), f"underline {under[1]}")


def is_underline_for(title: str, adornment: str) -> bool:
    """An adornment as long as most of the title: "Fees\\n-------------------" is a title, while
    a long sentence over a short rule is not."""
    title = title.strip()
    return bool(title) and not ADORNMENT.fullmatch(title) and len(adornment.strip()) >= MIN_UNDERLINE_RATIO * len(title)


def unbox(lines: list[str]) -> list[str]:
    """LINES with boxes of asterisks taken apart, as licences frame their disclaimers: the frame's
    top and bottom become blank lines and its sides spaces, so the headings inside can be read."""
    result, boxed = [], False
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if BOX_EDGE.fullmatch(line) and (boxed or BOX_LINE.fullmatch(following)):
            # A top edge opens the box; another edge closes it, unless the box goes on below it.
            boxed = not boxed or bool(BOX_LINE.fullmatch(following) and not BOX_EDGE.fullmatch(following))
            result.append("")
        elif boxed and (side := BOX_LINE.fullmatch(line)):
            result.append(" " + side[1])
        else:
            boxed = False
            result.append(line)
    return result


def indentation(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def body_indentation(paragraphs) -> int:
    """The indentation most lines have: a line indented well past it is centered."""
    counts = Counter(indentation(line) for paragraph in paragraphs for line in paragraph)
    return counts.most_common(1)[0][0] if counts else 0


def numbered_title(line: str) -> tuple[tuple[int, ...], str] | None:
    """The number and the title after it when LINE opens like a numbered heading ("4.9.1. Title",
    "4.9.1 Title", "12. Title"); a lone number needs its dot, so "3 Apples" is not a heading."""
    match = NUMBERED_TITLE.fullmatch(line.strip())
    if not match or ("." not in match[1] and not match[2]) or not TITLE_START.match(match[3]):
        return None
    return tuple(int(part) for part in match[1].split(".")), match[3]


def is_short_title(title: str, max_words: int = MAX_TITLE_WORDS) -> bool:
    """A few words, and not two sentences: "Grants" is a title, "Pay now. Or later." is not."""
    return len(title.split()) <= max_words and not SENTENCE_INSIDE.search(title)


def is_title_case(text: str) -> bool:
    """Whether every word but the small ones is capitalised, as titles are ("Grant of Copyright License")
    and list items are not ("Buy milk")."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    return bool(words) and all(word[0].isupper() or word.lower() in SMALL_WORDS for word in words)


def keyword_heading(line: str) -> Heading | None:
    """"Article 12", "Article 12 – Title", "ARTICLE 12. TITLE", "§ 3 Title", "Section 5. Title",
    "Chapter 2: Title", "Part II", "Appendix A", "APPENDIX: Title"; None for a sentence that
    starts with such a word ("Section 5 applies to all staff.")."""
    text = collapse_spaces(line)
    match = KEYWORD_HEADING.fullmatch(text) or SECTION_SIGN_HEADING.fullmatch(text)
    if not match or not (text[0] == "§" or text[0].isupper()):
        return None
    rest = match["rest"]
    if not match["label"] and not rest.startswith(":"):
        return None
    title = re.sub(r"^[ \t]*(?:[-–—:.][ \t]*)?", "", rest)
    if rest and not re.match(r"[ \t]*[-–—:.]|[ \t]+", rest):
        return None
    if title and not (TITLE_START.match(title) and is_short_title(title)):
        return None
    keyword = match["keyword"].lower()
    return Heading(text, "keyword " + KEYWORD_KINDS.get(keyword, keyword), is_bare=bool(match["label"] and not title))


def is_display_line(line: str, following: list[str], body_indent: int) -> bool:
    """A line set apart as a title: ALL CAPS ("TERMS AND CONDITIONS", unless an all-caps paragraph
    follows: then it is a shouted paragraph cut by the page), centered, or a short title-case line
    ("Statement of Purpose")."""
    text = collapse_spaces(line)
    words = text.split()
    if not 1 <= len(words) <= MAX_TITLE_WORDS or text[-1] in ".,;:!?" or not (text[0].isupper() or text[0].isdigit()):
        return False
    letters = [char for char in text if char.isalpha()]
    if len(letters) >= 4 and all(char.isupper() for char in letters):
        return not (following and is_all_caps(following[0]))
    if indentation(line) >= max(MIN_CENTERED_INDENT, body_indent + 8):
        return True
    return 2 <= len(words) <= 8 and text[0].isupper() and is_title_case(text)


def is_all_caps(line: str) -> bool:
    letters = [char for char in line if char.isalpha()]
    return len(letters) >= 4 and all(char.isupper() for char in letters)


def is_list(lines: list[str]) -> bool:
    """Whether LINES are list items, one to a line ("1. Buy milk.\n2. Call Anna."): two or more
    lines with a list marker at the paragraph's own indentation (a nested "(a)" does not count)."""
    indent = indentation(lines[0])
    return sum(1 for line in lines if indentation(line) == indent and LIST_MARKER.match(line.strip())) >= 2


def lone_number_depth(lines: list[str]) -> int | None:
    """The depth of the number of a one-line numbered paragraph, None for any other paragraph."""
    numbered = numbered_title(lines[0]) if len(lines) == 1 else None
    return len(numbered[0]) if numbered else None


def without_full_stop(title: str) -> str:
    """"4. Conveying Verbatim Copies." names its section "4. Conveying Verbatim Copies"; a bare number keeps its dot."""
    return title[:-1] if title.endswith(".") and not re.fullmatch(r"[\d.]+", title) else title


class TextOutline:
    """The section path of a text read one paragraph at a time, with the levels of its headings.

    A numbered title is as deep as its number, below the innermost unnumbered heading that is
    not a display line ("Manual > 4. Big > 4.9. Medium > 4.9.1. Title"); an underline style or a
    keyword keeps the level it got when first seen, one below the heading then innermost (as
    reStructuredText does); display lines and appendices are top-level titles.

    Numbers guard against reading a list as headings: a numbered heading must come after the last
    one (so a "1." inside section 4 is a list item), and a run of one-line numbered paragraphs
    at one depth is a list.
    """

    def __init__(self, root: str = "", body_indent: int = 0):
        self.sections = SectionPath(root)
        self.body_indent = body_indent
        self.style_levels: dict[str, int] = {}
        self.number_base = 0
        self.last_number: tuple[int, ...] | None = None
        self.previous_item_depth: int | None = None
        self.bare_keyword: tuple[int, str] | None = None  # (level, title) of "Article 5" with its title still to come

    @property
    def section(self) -> str:
        return self.sections.section

    def enter(self, heading: Heading) -> None:
        current = self.sections.headings[-1][0] if self.sections.headings else 0
        if heading.number is not None:
            level = self.number_base + len(heading.number)
            if heading.style != "number":
                self.style_levels.setdefault(heading.style, level)
            self.last_number = heading.number
        else:
            if heading.style in ("title", "keyword appendix"):
                level = 1
            else:
                level = self.style_levels.setdefault(heading.style, current + 1)
            self.number_base = 0 if heading.style == "title" else level
            self.last_number = None
        title = without_full_stop(heading.title)
        self.bare_keyword = (level, title) if heading.is_bare else None
        self.sections.enter(level, title)

    def enter_underlined(self, underlined: Underlined) -> None:
        numbered = numbered_title(underlined.title)
        self.previous_item_depth = None
        self.enter(Heading(underlined.title, underlined.style, numbered[0] if numbered else None))

    def read(self, lines: list[str], following: list[str]) -> bool:
        """Enter the heading LINES make or open, if any; returns whether LINES are text to keep
        (False when they are only a heading). FOLLOWING is the next paragraph, [] if none."""
        previous, self.previous_item_depth = self.previous_item_depth, lone_number_depth(lines)
        bare_keyword, self.bare_keyword = self.bare_keyword, None
        if is_list(lines):
            return True
        if bare_keyword and self.names_bare_keyword(lines):
            level, title = bare_keyword
            self.sections.enter(level, f"{title}: {collapse_spaces(lines[0])}")
            return False
        if heading := self.lone_heading(lines, following, previous):
            self.enter(heading)
            return False
        if heading := self.opening_heading(lines):
            self.enter(heading)
            return True
        if all(indentation(line) >= max(MIN_CENTERED_INDENT, self.body_indent + 8) for line in lines):
            if is_short_title(lines[0].strip()) and lines[0].strip()[0].isupper():
                self.enter(Heading(collapse_spaces(lines[0]), "title"))
        return True

    def names_bare_keyword(self, lines: list[str]) -> bool:
        """Whether LINES names the keyword heading just before ("Article 5", then "Lawfulness of processing")."""
        text = collapse_spaces(lines[0])
        return (
            len(lines) == 1 and is_short_title(text) and text[-1] not in ".,;:"
            and not numbered_title(text) and not keyword_heading(text)
        )

    def accepts(self, number: tuple[int, ...]) -> bool:
        return self.last_number is None or number > self.last_number

    def continues(self, number: tuple[int, ...]) -> bool:
        """Whether NUMBER is the next clause below or beside the last numbered heading (5.1 after 5., 5.2 after 5.1)."""
        last = self.last_number
        return last is not None and len(number) >= 2 and number[:-1] == last[: len(number) - 1] and number > last

    def lone_heading(self, lines: list[str], following: list[str], previous: int | None) -> Heading | None:
        """The heading that is the whole paragraph: a keyword or display line, or a numbered title
        (which may wrap to a second line)."""
        text = collapse_spaces(" ".join(lines))
        numbered = numbered_title(lines[0])
        if numbered and len(lines) <= 2 and self.is_lone_numbered(lines, text, numbered[0], following, previous):
            return Heading(text, "number", numbered[0])
        if len(lines) == 1 and not numbered:
            if heading := keyword_heading(lines[0]):
                return heading
            if is_display_line(lines[0], following, self.body_indent):
                return Heading(text, "title")
        return None

    def is_lone_numbered(self, lines, text, number, following, previous) -> bool:
        title = text.split(None, 1)[1]
        if len(lines) == 2 and len(lines[0].strip()) < 60:  # only a full line wraps
            return False
        if not is_short_title(title, MAX_TITLE_WORDS + 4 * (len(lines) - 1)) or text[-1] in ",;:":
            return False
        if text.endswith(".") and not is_title_case(title):  # "1. Buy milk."
            return False
        depth = len(number)
        return self.accepts(number) and previous != depth and lone_number_depth(following) != depth

    def opening_heading(self, lines: list[str]) -> Heading | None:
        """The heading that opens a paragraph of text: "2. Grant of Copyright License. Subject to ...";
        a numbered title over a hanging indent ("1.1. "Contributor"\\n    means ..."); or the bare
        number of the next clause ("5.1. The rights granted ..." under "5. Termination")."""
        first = lines[0].strip()
        inline = INLINE_TITLE.match(first)
        if inline and ("." in inline[1] or inline[2]) and is_title_case(inline[3]) and is_short_title(inline[3], 10):
            number = tuple(int(part) for part in inline[1].split("."))
            if self.accepts(number):
                return Heading(f"{inline[1]}{inline[2]} {inline[3]}", "number", number)
        numbered = numbered_title(first)
        if numbered is None or not self.accepts(numbered[0]):
            return None
        number, title = numbered
        hanging = len(lines) > 1 and all(indentation(line) > indentation(lines[0]) for line in lines[1:])
        if hanging and is_short_title(title) and (self.continues(number) or is_title_case(title)):
            return Heading(first, "number", number)
        # "3.2. Availability of Source Code.\nAny Modification ...": a title on the paragraph's first line.
        if title.endswith(".") and is_short_title(title) and is_title_case(title) and TITLE_START.match(lines[1].strip()):
            return Heading(first, "number", number)
        if self.continues(number):
            term = DEFINED_TERM.match(title)  # "1.1. "Contributor" means ..." is the clause defining "Contributor"
            return Heading(first.split(None, 1)[0] + (" " + term[0] if term else ""), "number", number)
        return None


def is_setext_title(pending: list[str]) -> bool:
    """Whether the text before a row of = or - is a setext title: some text that is not a list item
    (under a list item the row is a rule, as in CommonMark)."""
    return bool(pending) and not MARKDOWN_LIST_ITEM.match(pending[0])


CSV_SNIFF_CHARS = 65536


def parse_csv(text: str, filename: str) -> list[Block]:
    """One block per data row, "header1: v1; header2: v2" (empty values left out)."""
    # Only the delimiter is sniffed: the sniffer's guesses at quoting (doublequote=False when the
    # sample has no "") would misread valid files, and Excel's quoting is what files use.
    try:
        delimiter = csv.Sniffer().sniff(text[:CSV_SNIFF_CHARS], delimiters=",;\t|").delimiter
    except csv.Error:  # too little to go on: comma-separated
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = [collapse_spaces(name) for name in next(reader, [])]
        return [Block(csv_row_text(header, row), "", None) for row in reader]
    except csv.Error as error:
        raise IngestRejected(
            f"“{filename}” is not valid CSV (line {reader.line_num}: {error}); fix the file and upload it again.",
            code="malformed_csv",
        ) from error


def csv_row_text(header: list[str], row: list[str]) -> str:
    pairs = []
    for index, value in enumerate(row):
        name = header[index] if index < len(header) and header[index] else f"column {index + 1}"
        if value.strip():
            pairs.append(f"{name}: {collapse_spaces(value)}")
    return "; ".join(pairs)


def parse_email(data: bytes, filename: str) -> list[Block]:
    """The body under the Subject as section: the text/plain part, else the text/html one.

    From, To and Date stay out: they are headers, not content, and often personal data.
    Attachments are ignored.
    """
    if b"\x00" in data:
        raise unreadable_text(filename)
    message = email.message_from_bytes(data, policy=email.policy.default)
    subject = collapse_spaces(str(message["subject"] or ""))
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return []
    try:
        content = body.get_content()
    except LookupError:  # a charset Python does not know: read the bytes like any text file
        content = decode_text(body.get_payload(decode=True) or b"", filename)
    content = normalise_newlines(content)
    if body.get_content_type() == "text/html":
        return parse_html(content, section_root=subject)
    return parse_plain_text(content, section=subject)
