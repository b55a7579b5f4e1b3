"""ingest.parsing: every accepted format, and every way a file is refused, with the admin's message."""
import io
import zipfile

import pytest

from appliance.errors import IngestRejected
from ingest.parsing import ACCEPTED_TYPES, Block, detect_file_type, parse_document, split_page_text
from tests import documents

MB = 1_000_000
ACCEPTED = "Accepted types: PDF, DOCX, HTML, Markdown, plain text, CSV and EML."
MISMATCH_FIX = "upload the right file, or give it the extension of its content."


def parse(data: bytes, filename: str, *, max_bytes: int = 25 * MB, max_unzipped_bytes: int = 100 * MB):
    return parse_document(data, filename, max_bytes=max_bytes, max_unzipped_bytes=max_unzipped_bytes)


def rejection(data: bytes, filename: str, **limits) -> tuple[str, str]:
    with pytest.raises(IngestRejected) as caught:
        parse(data, filename, **limits)
    return caught.value.code, caught.value.message


def texts(parsed) -> list[str]:
    return [block.text for block in parsed.blocks]


# -- Accepted formats -----------------------------------------------------------------------------


def test_it_reads_pdf_text_by_page():
    data = documents.pdf([["Fees apply monthly.", "Café owners pay (half)."], [], ["Refunds take ten days."]])

    parsed = parse(data, "handbook.pdf")

    assert parsed.file_type == "pdf"
    assert parsed.blocks == (
        Block("Fees apply monthly.", "", 1),
        Block("Café owners pay (half).", "", 1),
        Block("Refunds take ten days.", "", 3),
    )


def test_it_splits_pdf_page_text_at_blank_lines_when_it_has_them():
    assert split_page_text("First line\nof one paragraph.\n \nSecond paragraph.\n") == [
        "First line\nof one paragraph.",
        "Second paragraph.",
    ]
    assert split_page_text("One line.\r\nAnother line.\n") == ["One line.", "Another line."]


def test_it_reads_docx_with_heading_sections_and_table_rows():
    parsed = parse(documents.fees_docx(), "handbook.docx")

    assert parsed.file_type == "docx"
    assert parsed.blocks == (
        Block("Introduction to the handbook.", "", None),
        Block("Fees are charged monthly.", "Fees", None),
        Block("Two percent per month.", "Fees > Late payment", None),
        Block("Days late | Fee", "Fees > Late payment", None),
        Block("30 | 2%", "Fees > Late payment", None),
        Block("Refunds take ten days.", "Refunds", None),
    )


def test_it_lists_a_merged_docx_cell_once():
    def build(document):
        table = document.add_table(rows=1, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "Merged heading"
        table.cell(0, 2).text = "Last"

    assert texts(parse(documents.docx_file(build), "table.docx")) == ["Merged heading | Last"]


def test_it_reads_html_by_heading_without_hidden_content():
    parsed = parse(documents.html_page(), "handbook.html")

    assert parsed.file_type == "html"
    assert parsed.blocks == (
        Block("Fees are charged monthly.", "Fees", None),
        Block("Two percent per month.", "Fees > Late payment", None),
        Block("Capped at ten percent.", "Fees > Late payment", None),
        Block("Days late | Fee", "Fees > Late payment", None),
        Block("30 | 2%", "Fees > Late payment", None),
        Block("Refunds take ten days.", "Refunds", None),
        Block("code  line", "Refunds", None),
        Block("Grace period", "Refunds", None),
        Block("Fourteen days.", "Refunds", None),
    )
    everything = " ".join(texts(parsed))
    for hidden in ("SCRIPT-TEXT", "secret", "color", "NOSCRIPT", "IFRAME", "TEMPLATE", "SVG", "COMMENT"):
        assert hidden not in everything


def test_it_reads_html_text_outside_block_elements():
    data = b"<html><body>Just text, <b>no</b> paragraphs.<br>Second line.</body></html>"

    assert texts(parse(data, "page.htm")) == ["Just text, no paragraphs. Second line."]


def test_it_reads_deeply_nested_html():
    data = b"<!DOCTYPE html><html><body>" + b"<div>" * 5000 + b"Deep text." + b"</div>" * 5000 + b"</body></html>"

    assert texts(parse(data, "deep.html")) == ["Deep text."]


def test_it_reads_markdown_sections_lists_and_code():
    parsed = parse(documents.markdown_text(), "handbook.md")

    assert parsed.file_type == "markdown"
    assert parsed.blocks == (
        Block("Preface paragraph\non two lines.", "", None),
        Block("Fees are charged monthly.", "Fees", None),
        Block("- Two percent per month.", "Fees > Late payment", None),
        Block("- Capped at ten percent\n  of the invoice.", "Fees > Late payment", None),
        Block("fee = amount * 0.02\n\nprint(fee)", "Fees > Late payment", None),
        Block("Refunds take ten days.", "Refunds", None),
    )


def test_it_reads_plain_text_paragraphs():
    parsed = parse(b"First paragraph,\r\nsecond line.\r\n\r\n\r\nSecond paragraph.\r\n", "notes.txt")

    assert parsed.file_type == "text"
    assert parsed.blocks == (Block("First paragraph,\nsecond line.", "", None), Block("Second paragraph.", "", None))


def test_it_reads_csv_rows_as_header_value_pairs():
    data = b'name,role,note\nAnn Smith,Manager,"Says ""approve"", then signs"\n\nBob Jones,,Part-time\n'

    parsed = parse(data, "staff.csv")

    assert parsed.file_type == "csv"
    assert texts(parsed) == [
        'name: Ann Smith; role: Manager; note: Says "approve", then signs',
        "name: Bob Jones; note: Part-time",
    ]


def test_it_reads_csv_with_semicolons():
    assert texts(parse(b"city;fee\nParis;12\nLyon;9\n", "fees.csv")) == ["city: Paris; fee: 12", "city: Lyon; fee: 9"]


def test_it_reads_an_email_body_under_its_subject_without_headers_or_attachments():
    parsed = parse(documents.eml(), "terms.eml")

    assert parsed.file_type == "eml"
    assert parsed.blocks == (
        Block("Hello Bob,", "Payment terms", None),
        Block("Pay within thirty days.", "Payment terms", None),
        Block("Regards,\nAnn", "Payment terms", None),
    )
    everything = " ".join(texts(parsed))
    for left_out in ("ann.smith@example.com", "bob.jones@example.com", "2026", "ATTACHMENT-TEXT"):
        assert left_out not in everything


def test_it_reads_an_html_only_email_through_the_html_parser():
    parsed = parse(documents.eml(html=True), "terms.eml")

    assert parsed.blocks == (Block("Pay within thirty days.", "Payment terms > Terms", None),)


def test_it_decodes_windows_1252_text():
    text = "Le café « Chez François » facture 5 € de frais ; c’est déjà naïf.\r\n\r\nRésumé : payé."

    parsed = parse(text.encode("cp1252"), "frais.txt")

    assert texts(parsed) == ["Le café « Chez François » facture 5 € de frais ; c’est déjà naïf.", "Résumé : payé."]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_it_decodes_text_with_a_byte_order_mark(encoding):
    parsed = parse("Größe und Gebühr.\n\nZweiter Absatz.".encode(encoding), "notes.md")

    assert texts(parsed) == ["Größe und Gebühr.", "Zweiter Absatz."]


@pytest.mark.parametrize(
    ("filename", "file_type"),
    [("REPORT.PDF", "pdf"), ("notes.MD", "markdown"), ("notes.markdown", "markdown"), ("notes.text", "text"),
     ("page.htm", "html"), ("mail.eml", "eml"), ("rows.csv", "csv")],
)
def test_it_detects_the_type_by_content_and_extension(filename, file_type):
    data = documents.pdf([["Text."]]) if file_type == "pdf" else b"Some plain words.\n"

    assert detect_file_type(data, filename) == file_type


def test_it_detects_a_docx_that_libmagic_calls_a_zip():
    data = documents.zip_bomb_docx(zeros=0)

    assert detect_file_type(data, "plain.docx") == "docx"


# -- Refused files --------------------------------------------------------------------------------


def test_it_rejects_a_corrupt_pdf():
    assert rejection(documents.corrupt_pdf(), "report.pdf") == (
        "corrupt_pdf",
        "“report.pdf” is a damaged PDF that the appliance cannot read; save or export it again and upload the new copy.",
    )


@pytest.mark.parametrize("user_password", ["secret", ""])
def test_it_rejects_an_encrypted_pdf_even_without_a_user_password(user_password):
    assert rejection(documents.encrypted_pdf(user_password), "terms.pdf") == (
        "encrypted_pdf",
        "“terms.pdf” is password-protected (encrypted), so the appliance cannot read it; "
        "upload a copy without the password or protection.",
    )


def test_it_rejects_a_pdf_without_a_text_layer():
    assert rejection(documents.pdf([[], []]), "scan.pdf") == (
        "no_text_layer",
        "“scan.pdf” has no text layer (it is probably a scanned image), and OCR is not supported; "
        "upload a PDF with selectable text.",
    )


def test_it_rejects_a_docx_zip_bomb_by_its_compression_ratio():
    data = documents.zip_bomb_docx()
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    ratio = member.file_size / member.compress_size

    assert ratio > 100
    assert rejection(data, "bomb.docx") == (
        "zip_bomb",
        f"“bomb.docx” looks like a zip bomb, so it was not opened: its part word/document.xml would expand "
        f"{ratio:,.0f} times ({member.compress_size:,} to 10,000,000 bytes), and more than 100 times is refused.",
    )


def test_it_rejects_a_docx_that_expands_past_the_unzipped_limit():
    assert rejection(documents.large_docx(2 * MB), "big.docx", max_unzipped_bytes=1 * MB) == (
        "zip_bomb",
        "“big.docx” looks like a zip bomb, so it was not opened: it would expand to 2.0 MB, "
        "over the limit of 1 MB (INGEST_MAX_UNZIPPED_MB).",
    )


def test_it_rejects_a_corrupt_docx():
    data = documents.fees_docx()

    assert rejection(data[: len(data) // 2], "handbook.docx") == (
        "corrupt_docx",
        "“handbook.docx” is a damaged Word document that the appliance cannot read; "
        "save it again from Word and upload the new copy.",
    )


def test_it_rejects_an_empty_file():
    assert rejection(b"", "notes.txt") == ("empty_file", "“notes.txt” is empty (0 bytes); there is nothing to index.")


def test_it_rejects_a_file_over_the_size_limit():
    assert rejection(documents.pdf([["Text."]]) + b" " * MB, "report.pdf", max_bytes=1 * MB) == (
        "too_large",
        "The file is 1.0 MB; the limit is 1 MB (INGEST_MAX_FILE_MB).",
    )


def test_it_rejects_a_50_mb_text_file_by_size_before_parsing_it():
    data = b"a " * 25_000_000

    assert rejection(data, "huge.txt") == ("too_large", "The file is 50.0 MB; the limit is 25 MB (INGEST_MAX_FILE_MB).")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (documents.pdf([["Text."]]), "notes.txt", "“notes.txt” is named as plain text but its content is a PDF; "),
        (b"Plain words only.\n", "report.pdf", "“report.pdf” is named as a PDF but its content is text; "),
        (documents.png(), "handbook.docx",
         "“handbook.docx” is named as a Word document (DOCX) but its content is an image (image/png); "),
        (documents.pdf([["Text."]]), "handbook.docx",
         "“handbook.docx” is named as a Word document (DOCX) but its content is a PDF; "),
        (documents.fees_docx(), "handbook.md", "“handbook.md” is named as Markdown but its content is a Word document (DOCX); "),
        (b'{"fee": 2}', "fees.txt", "“fees.txt” is named as plain text but its content is JSON data (application/json); "),
    ],
)
def test_it_rejects_an_extension_that_does_not_match_the_content(data, filename, message):
    assert rejection(data, filename) == ("type_mismatch", message + MISMATCH_FIX)


@pytest.mark.parametrize(
    ("data", "filename", "what"),
    [
        (documents.png(), "chart.png", "an image (image/png)"),
        (documents.elf_executable(), "backup-tool", "a program (application/x-executable)"),
        (documents.zip_archive(), "archive.zip", "a zip archive (application/zip)"),
    ],
)
def test_it_rejects_a_type_it_does_not_accept(data, filename, what):
    assert rejection(data, filename) == ("unsupported_type", f"“{filename}” is {what}, which cannot be indexed. {ACCEPTED}")
    assert ACCEPTED.endswith(ACCEPTED_TYPES + ".")


def test_it_rejects_accepted_content_with_an_unknown_extension():
    assert rejection(b"Plain words.\n", "notes.log") == (
        "unknown_extension",
        "“notes.log” has an extension the appliance does not accept. "
        "Accepted extensions: .pdf, .docx, .txt, .text, .md, .markdown, .csv, .html, .htm and .eml.",
    )


def test_it_rejects_text_it_cannot_decode():
    assert rejection(b"\xef\xbb\xbf\xff\xfe not UTF-8 after a UTF-8 mark", "notes.txt") == (
        "unreadable_text",
        "“notes.txt” is not readable text (it looks binary, or its character encoding is unknown); "
        "save it as UTF-8 and upload it again.",
    )


def test_it_rejects_malformed_csv_with_the_line_number():
    assert rejection(b'name,fee\nAnn,2\nBob,"3"x\n', "fees.csv") == (
        "malformed_csv",
        "“fees.csv” is not valid CSV (line 3: ',' expected after '\"'); fix the file and upload it again.",
    )


@pytest.mark.parametrize(
    ("data", "filename"),
    [(b"   \n\n  \n", "blank.txt"), (b"<html><body><script>var x = 1;</script></body></html>", "empty.html")],
)
def test_it_rejects_a_document_without_text(data, filename):
    assert rejection(data, filename) == ("no_text", f"“{filename}” contains no text to index.")
