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
import re
import zipfile
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
MAX_ZIP_RATIO = 100


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
    """One block per paragraph of each page's text layer (per line when the page has no blank lines)."""
    reader = open_pdf(data, filename)
    if reader.is_encrypted:
        # Also when the user password is empty: the author restricted the file, and we do not
        # decide on their behalf which restrictions matter.
        raise IngestRejected(
            f"“{filename}” is password-protected (encrypted), so the appliance cannot read it; "
            "upload a copy without the password or protection.",
            code="encrypted_pdf",
        )
    blocks = []
    for number, page_text in enumerate(extract_page_texts(reader, filename), start=1):
        blocks.extend(Block(paragraph, "", number) for paragraph in split_page_text(page_text))
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


def split_page_text(text: str) -> list[str]:
    text = normalise_newlines(text)
    parts = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return [part.strip() for part in parts if part.strip()]


# -- DOCX -----------------------------------------------------------------------------------------


def parse_docx(data: bytes, filename: str, max_unzipped_bytes: int) -> list[Block]:
    """One block per paragraph and per table row (cells joined with " | "); Heading N styles
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
            if level:
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
    style_name = paragraph.style.name if paragraph.style is not None else None
    match = re.fullmatch(r"Heading (\d)", style_name or "")
    return int(match[1]) if match else None


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


def parse_plain_text(text: str, section: str = "") -> list[Block]:
    return [Block(part.strip(), section, None) for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


HTML_DROPPED = ["script", "style", "noscript", "iframe", "template", "svg"]
HTML_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements that end the text before them and start a block of their own.
HTML_BLOCKS = {
    "p", "li", "blockquote", "dt", "dd", "div", "section", "article", "main", "header", "footer", "nav", "aside",
    "ul", "ol", "dl", "table", "caption", "form", "fieldset", "figure", "figcaption", "address", "details",
    "summary", "hr", "body",
}
END_OF_BLOCK = object()


def parse_html(text: str, section_root: str = "") -> list[Block]:
    """Blocks of the body's text in reading order: h1-h6 build the section path, each table row is a
    block (cells joined with " | "), scripts, styles and other hidden content are dropped."""
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
MARKDOWN_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")


def parse_markdown(text: str) -> list[Block]:
    """ATX headings (# .. ######) build the section path; paragraphs and list items are blocks; a
    fenced code block is one block (without its fences)."""
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
        elif not line.strip() or MARKDOWN_RULE.fullmatch(line):
            collector.flush()
        else:
            if MARKDOWN_LIST_ITEM.match(line):
                collector.flush()
            collector.add(line + "\n")
    collector.block("\n".join(code))  # a fence left open runs to the end of the file
    collector.flush()
    return collector.blocks


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
