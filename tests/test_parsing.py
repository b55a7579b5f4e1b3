"""ingest.parsing: every accepted format, and every way a file is refused, with the admin's message."""
import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject

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
        Block("Grace period: Fourteen days.", "Refunds", None),  # the term with its description
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


# -- Sections -------------------------------------------------------------------------------------


def sections(parsed) -> list[tuple[str, str]]:
    return [(block.section, block.text) for block in parsed.blocks]


def parse_text(text: str, filename: str = "manual.txt"):
    return parse(text.encode(), filename)


@pytest.mark.parametrize("char", ["=", "-", "*", "~", "^", "#", "+"])
def test_it_reads_a_title_underlined_with_each_character(char):
    parsed = parse_text(f"Late payment\n{char * 12}\n\nTwo percent per month.\n")

    assert sections(parsed) == [("Late payment", "Two percent per month.")]


def test_it_levels_underline_styles_by_first_appearance():
    text = (
        "=======\nHandbook\n=======\n\nPreface.\n\n"
        "Fees\n====\n\nMonthly.\n\nLate payment\n------------\n\nTwo percent.\n\n"
        "Refunds\n=======\n\nTen days.\n"
    )

    assert sections(parse_text(text)) == [
        ("Handbook", "Preface."),
        ("Handbook > Fees", "Monthly."),
        ("Handbook > Fees > Late payment", "Two percent."),
        ("Handbook > Refunds", "Ten days."),
    ]


def test_it_takes_a_rule_after_a_blank_line_or_under_a_paragraph_for_a_rule():
    text = "Intro\n=====\n\nFirst paragraph\non two lines.\n------------\n\n---------\n\nLast words.\n"

    assert sections(parse_text(text)) == [("Intro", "First paragraph\non two lines."), ("Intro", "Last words.")]


def test_it_levels_underlined_numbered_titles_by_their_number():
    text = (
        "4. Big\n------\n\nBig text.\n\n4.9. Medium\n-----------\n\nMedium text.\n\n"
        "4.9.1. Title of the thing\n-------------------------\n\nThing text.\n\n5. Next\n-------\n\nNext text.\n"
    )

    assert sections(parse_text(text)) == [
        ("4. Big", "Big text."),
        ("4. Big > 4.9. Medium", "Medium text."),
        ("4. Big > 4.9. Medium > 4.9.1. Title of the thing", "Thing text."),
        ("5. Next", "Next text."),
    ]


def test_it_reads_numbered_headings_on_their_own_lines():
    text = (
        "1. Scope\n\nThis applies to staff.\n\n1.1 Who is covered\n\nEveryone.\n\n"
        "1.2. Exceptions\n\nContractors.\n\n12. Final provisions\n\nNone.\n"
    )

    assert sections(parse_text(text)) == [
        ("1. Scope", "This applies to staff."),
        ("1. Scope > 1.1 Who is covered", "Everyone."),
        ("1. Scope > 1.2. Exceptions", "Contractors."),
        ("12. Final provisions", "None."),
    ]


@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("Article 12", "Article 12"),
        ("Article 12 – Transparent information", "Article 12 – Transparent information"),
        ("ARTICLE 12. TRANSPARENCY", "ARTICLE 12. TRANSPARENCY"),
        ("§ 3", "§ 3"),
        ("§ 3 Kündigung", "§ 3 Kündigung"),
        ("Section 5. Payments", "Section 5. Payments"),
        ("Chapter 2: Fees", "Chapter 2: Fees"),
        ("Part II", "Part II"),
        ("Appendix A", "Appendix A"),
        ("Annex 1", "Annex 1"),
        ("TERMS AND CONDITIONS", "TERMS AND CONDITIONS"),
    ],
)
def test_it_reads_keyword_and_all_caps_headings(heading, section):
    parsed = parse_text(f"Preface.\n\n{heading}\n\nThe body text.\n")

    assert sections(parsed) == [("", "Preface."), (section, "The body text.")]


def test_it_nests_articles_in_chapters_and_names_them_by_the_next_line():
    text = (
        "CHAPTER I\n\nGeneral provisions\n\nArticle 1\n\nSubject-matter\n\n"
        "This Regulation lays down rules.\n\nCHAPTER II\n\nArticle 5\n\nData shall be processed lawfully.\n"
    )

    assert sections(parse_text(text)) == [
        ("CHAPTER I: General provisions > Article 1: Subject-matter", "This Regulation lays down rules."),
        ("CHAPTER II > Article 5", "Data shall be processed lawfully."),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Section 5 applies to all staff.\n",
        "Part of the fee is refundable\n",
        "Chapter two was short.\n",
    ],
)
def test_it_does_not_take_a_sentence_that_starts_with_a_keyword_for_a_heading(text):
    assert sections(parse_text("Intro.\n\n" + text)) == [("", "Intro."), ("", text.strip())]


APACHE_LIKE = """\
   TERMS AND CONDITIONS

   1. Definitions.

      "License" shall mean the terms and conditions.

   2. Grant of Copyright License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a license.

   3. Redistribution. You may reproduce and distribute copies:

      (a) You must give any other recipients a copy; and

      (b) You must keep the notices.
"""


def test_it_reads_a_heading_that_opens_its_paragraph_and_keeps_the_whole_paragraph():
    assert sections(parse_text(APACHE_LIKE, "LICENSE.txt")) == [
        ("1. Definitions", '"License" shall mean the terms and conditions.'),
        ("2. Grant of Copyright License",
         "2. Grant of Copyright License. Subject to the terms and conditions of\n"
         "      this License, each Contributor hereby grants to You a license."),
        ("3. Redistribution", "3. Redistribution. You may reproduce and distribute copies:"),
        ("3. Redistribution", "(a) You must give any other recipients a copy; and"),
        ("3. Redistribution", "(b) You must keep the notices."),
    ]


def test_it_reads_nested_clauses_under_an_underlined_section():
    text = (
        "1. Definitions\n--------------\n\n1.1. \"Contributor\"\n    means each individual.\n\n"
        "5. Termination\n--------------\n\n5.1. The rights granted under this License will terminate\n"
        "if You fail to comply.\n\n5.2. If You initiate litigation, the rights end.\n"
    )

    assert [block.section for block in parse_text(text).blocks] == [
        '1. Definitions > 1.1. "Contributor"',
        "5. Termination > 5.1.",
        "5. Termination > 5.2.",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "1. Buy milk.\n2. Call Anna.\n3. Book the flight to Lyon.",
        "1. Buy milk.\n\n2. Call Anna.\n\n3. Book the flight to Lyon.",
        "1. Buy Milk\n\n2. Call Anna\n\n3. Book Flights",
        "1. Buy milk.",
        "1. We will send the invoice on the first working day of the month. Pay it within thirty days.",
    ],
)
def test_it_keeps_a_numbered_list_as_text(body):
    parsed = parse_text(f"4. Errands\n\nThings to do:\n\n{body}\n\nThat is all.\n")

    assert {block.section for block in parsed.blocks} == {"4. Errands"}
    assert "\n\n".join(texts(parsed)) == f"Things to do:\n\n{body}\n\nThat is all."


def test_it_keeps_a_list_that_restarts_its_numbers_inside_a_numbered_section():
    text = "3. Ordering\n\nOrders go through the portal.\n\n1. Open Orders\n\nThen pick a product.\n"

    assert {block.section for block in parse_text(text).blocks} == {"3. Ordering"}


def test_it_reads_centered_and_boxed_titles():
    text = (
        "                         Example License\n                       Version 1, May 2020\n\n"
        "  Preamble text,\n  on two lines.\n\n"
        "*************************************\n"
        "*                                   *\n"
        "*  6. Disclaimer of Warranty        *\n"
        "*  -------------------------        *\n"
        "*                                   *\n"
        "*  Provided as is.                  *\n"
        "*                                   *\n"
        "*************************************\n"
    )

    assert [(block.section, collapse(block.text)) for block in parse_text(text).blocks] == [
        ("Example License", "Example License Version 1, May 2020"),
        ("Example License", "Preamble text, on two lines."),
        ("6. Disclaimer of Warranty", "Provided as is."),
    ]


def collapse(text: str) -> str:
    return " ".join(text.split())


LICENSES = Path("/usr/share/common-licenses")


@pytest.mark.skipif(not (LICENSES / "Apache-2.0").exists(), reason="no /usr/share/common-licenses/Apache-2.0")
def test_it_gives_the_sections_of_the_apache_license():
    parsed = parse((LICENSES / "Apache-2.0").read_bytes(), "Apache-2.0.txt")

    grant = next(block for block in parsed.blocks if "copyright license to reproduce" in collapse(block.text))
    assert grant.section.startswith("2. Grant of Copyright License")
    assert "Subject to the terms and conditions of this License, each Contributor hereby grants" in collapse(grant.text)
    assert {block.section for block in parsed.blocks} >= {
        "1. Definitions", "4. Redistribution", "9. Accepting Warranty or Additional Liability",
        "APPENDIX: How to apply the Apache License to your work",
    }
    assert all(block.section for block in parsed.blocks)


@pytest.mark.skipif(not (LICENSES / "MPL-2.0").exists(), reason="no /usr/share/common-licenses/MPL-2.0")
def test_it_gives_the_nested_sections_of_the_mozilla_license():
    parsed = parse((LICENSES / "MPL-2.0").read_bytes(), "MPL-2.0.txt")

    assert {block.section for block in parsed.blocks} >= {
        'Mozilla Public License Version 2.0 > 1. Definitions > 1.1. "Contributor"',
        "Mozilla Public License Version 2.0 > 2. License Grants and Conditions > 2.1. Grants",
        "Mozilla Public License Version 2.0 > 6. Disclaimer of Warranty",
        "Mozilla Public License Version 2.0 > Exhibit A - Source Code Form License Notice",
    }


def test_it_reads_an_email_body_with_headings_under_its_subject():
    message = EmailMessage()
    message["Subject"] = "Payment terms"
    message.set_content("1. Fees\n\nPay monthly.\n\n2. Refunds\n\nTen days.\n")

    assert sections(parse(message.as_bytes(), "terms.eml")) == [
        ("Payment terms > 1. Fees", "Pay monthly."),
        ("Payment terms > 2. Refunds", "Ten days."),
    ]


def test_it_reads_markdown_setext_headings_beside_atx_ones():
    text = (
        "Handbook\n========\n\nPreface.\n\nFees\n----\n\nMonthly.\n\n### 4.9.1. Late fees\n\nTwo percent.\n\n"
        "- a list item\n---\n\nAfter the rule.\n"
    )

    assert sections(parse_text(text, "handbook.md")) == [
        ("Handbook", "Preface."),
        ("Handbook > Fees", "Monthly."),
        ("Handbook > Fees > 4.9.1. Late fees", "Two percent."),
        ("Handbook > Fees > 4.9.1. Late fees", "- a list item"),
        ("Handbook > Fees > 4.9.1. Late fees", "After the rule."),
    ]


def test_it_reads_html_sections_without_a_table_of_contents():
    data = b"<html><body><h2>Fees</h2><p>Monthly.</p><h3>Late payment</h3><p>Two percent.</p></body></html>"

    assert sections(parse(data, "page.html")) == [("Fees", "Monthly."), ("Fees > Late payment", "Two percent.")]


def pdf_with_outline(pages: list[list[str]], outline: list[tuple[str, int, str | None]]) -> bytes:
    """documents.pdf(PAGES) with an outline of (title, 0-based page, parent title or None)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(documents.pdf(pages))))
    added = {}
    for title, page, parent in outline:
        added[title] = writer.add_outline_item(title=title, page_number=page, parent=added.get(parent))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_it_reads_pdf_sections_from_the_outline():
    data = pdf_with_outline(
        [["Cover text."], ["1. Fees", "Monthly.", "1.1 Late payment", "Two percent."], ["More about late fees."],
         ["2. Refunds", "Ten days."]],
        [("1. Fees", 1, None), ("1.1 Late payment", 1, "1. Fees"), ("2. Refunds", 3, None)],
    )

    assert parse(data, "handbook.pdf").blocks == (
        Block("Cover text.", "", 1),
        Block("1. Fees", "1. Fees", 2),
        Block("Monthly.", "1. Fees", 2),
        Block("1.1 Late payment", "1. Fees > 1.1 Late payment", 2),
        Block("Two percent.", "1. Fees > 1.1 Late payment", 2),
        Block("More about late fees.", "1. Fees > 1.1 Late payment", 3),
        Block("2. Refunds", "2. Refunds", 4),
        Block("Ten days.", "2. Refunds", 4),
    )


def test_it_starts_an_outline_entry_at_the_top_of_its_page_when_the_page_does_not_show_its_title():
    data = pdf_with_outline([["Intro."], ["Monthly fees apply."]], [("Fees", 1, None)])

    assert parse(data, "handbook.pdf").blocks == (Block("Intro.", "", 1), Block("Monthly fees apply.", "Fees", 2))


def test_it_reads_pdf_sections_from_heading_lines_without_an_outline():
    data = documents.pdf([["TERMS AND CONDITIONS", "1. Fees", "Pay monthly."], ["2. Refunds", "Ten days."]])

    assert parse(data, "terms.pdf").blocks == (
        Block("TERMS AND CONDITIONS", "TERMS AND CONDITIONS", 1),
        Block("1. Fees", "1. Fees", 1),
        Block("Pay monthly.", "1. Fees", 1),
        Block("2. Refunds", "2. Refunds", 2),
        Block("Ten days.", "2. Refunds", 2),
    )


def test_it_reads_a_pdf_with_a_damaged_outline_without_its_outline(caplog):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(documents.pdf([["1. Fees", "Pay monthly."]]))))
    entry = writer.add_outline_item(title="Fees", page_number=0).get_object()
    entry[NameObject("/A")] = NumberObject(5)  # an action that is not a dictionary: pypdf raises TypeError
    out = io.BytesIO()
    writer.write(out)

    parsed = parse(out.getvalue(), "handbook.pdf")

    assert parsed.blocks == (Block("1. Fees", "1. Fees", 1), Block("Pay monthly.", "1. Fees", 1))
    assert caplog.messages == ["The outline of “handbook.pdf” is damaged; its sections come from its text instead."]


def test_it_reads_docx_title_outline_level_and_bold_numbered_headings():
    def build(document):
        document.add_paragraph("Staff Handbook", style="Title")
        document.add_paragraph("Preface.")
        document.add_paragraph().add_run("4. Fees").bold = True
        document.add_paragraph("Monthly.")
        heading = document.add_paragraph("Late payment")
        heading._p.get_or_add_pPr().append(outline_level_element(1))
        document.add_paragraph("Two percent.")
        document.add_paragraph().add_run("4.9.1. Interest on late fees").bold = True
        document.add_paragraph("One percent.")
        partly = document.add_paragraph()
        partly.add_run("5. Refunds").bold = True
        partly.add_run(" take ten days.")

    assert sections(parse(documents.docx_file(build), "handbook.docx")) == [
        ("Staff Handbook", "Preface."),
        ("Staff Handbook > 4. Fees", "Monthly."),
        ("Staff Handbook > 4. Fees > Late payment", "Two percent."),
        ("Staff Handbook > 4. Fees > Late payment > 4.9.1. Interest on late fees", "One percent."),
        ("Staff Handbook > 4. Fees > Late payment > 4.9.1. Interest on late fees", "5. Refunds take ten days."),
    ]


def outline_level_element(value: int):
    element = OxmlElement("w:outlineLvl")
    element.set(qn("w:val"), str(value))
    return element


def test_a_definition_lists_term_and_its_description_are_one_block_so_a_quote_names_the_option():
    page = (b"<html><body><h2>Options</h2><dl>"
            b"<dt><code>--wait</code> <var>SECONDS</var></dt><dd>Wait up to SECONDS for a lock. Default: 30.</dd>"
            b"<dt>Exit codes:</dt><dd>0 on success.</dd><dd>1 on error.</dd>"
            b"<dt>A term without a description</dt>"
            b"</dl></body></html>")

    assert texts(parse(page, "manual.html")) == [
        "--wait SECONDS: Wait up to SECONDS for a lock. Default: 30.",
        "Exit codes: 0 on success.",  # a term ending in a colon gets no second one
        "1 on error.",  # a second description of the same term: a block of its own
        "A term without a description",
    ]
