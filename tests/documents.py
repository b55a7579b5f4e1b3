"""Test documents built at test time, so no binary file is kept in the repository.

Each function returns the bytes of one file. They use the same libraries the appliance reads
with (pypdf, python-docx) or the file format itself (a hand-written PDF, PNG and ELF header).
"""
import io
import random
import struct
import zipfile
import zlib
from email.message import EmailMessage

import docx
from pypdf import PdfReader, PdfWriter

LOREM = (
    "Late payment fees apply to invoices that remain unpaid thirty days after the due date. "
    "The fee is two percent of the outstanding amount per month. "
    "Clients can ask for a payment plan before the fee applies. "
    "A payment plan must be approved by the account manager. "
)


def words(count: int, word: str = "word") -> str:
    """COUNT words with no sentence end among them: "word1 word2 ..."."""
    return " ".join(f"{word}{number}" for number in range(1, count + 1))


def pdf_escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF written by hand: one page per list of lines, in Helvetica; an empty list is a
    page with no text at all (as a scanned page looks to a text extractor)."""
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, lines in zip(page_ids, pages):
        content = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({pdf_escape(line)}) Tj T*" for line in lines) + " ET"
        stream = content.encode("cp1252") if lines else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf(user_password: str = "secret") -> bytes:
    """A text PDF encrypted with pypdf; an empty USER_PASSWORD makes one that opens without asking."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf([["Confidential terms."]]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """A PDF cut off halfway, as an interrupted download leaves it."""
    data = pdf([["Page one text."], ["Page two text."]])
    return data[: len(data) // 2]


def docx_file(build) -> bytes:
    """A DOCX made by python-docx: BUILD(document) adds the content."""
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def fees_docx() -> bytes:
    def build(document):
        document.add_paragraph("Introduction to the handbook.")
        document.add_heading("Fees", level=1)
        document.add_paragraph("Fees are charged monthly.")
        document.add_heading("Late payment", level=2)
        document.add_paragraph("Two percent per month.")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Days late", "Fee"
        table.cell(1, 0).text, table.cell(1, 1).text = "30", "2%"
        document.add_heading("Refunds", level=1)
        document.add_paragraph("Refunds take ten days.")

    return docx_file(build)


def zip_bomb_docx(zeros: int = 10_000_000) -> bytes:
    """A zip that looks like a DOCX whose word/document.xml is ZEROS zero bytes, deflated about a
    thousand to one. Written in 1 MB steps, so building it never holds the expanded part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w") as member:
            for _ in range(zeros // 1_000_000):
                member.write(bytes(1_000_000))
    return out.getvalue()


def large_docx(size: int) -> bytes:
    """A zip that looks like a DOCX whose parts add up to more than SIZE bytes, at a normal ratio:
    the parts are random bytes, which do not compress."""
    noise = random.Random(0).randbytes(size + 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/media/image1.bin", noise)
    return out.getvalue()


def png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b"")


def elf_executable() -> bytes:
    """The 64-byte header of an x86-64 Linux executable, which is what libmagic reads."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def zip_archive() -> bytes:
    """A plain zip holding one text file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "Plain words.")
    return out.getvalue()


def html_page() -> bytes:
    return b"""<!DOCTYPE html>
<html><head><title>Handbook</title><style>body { color: red; }</style>
<script>var secret = "SCRIPT-TEXT";</script></head>
<body>
<noscript>NOSCRIPT-TEXT</noscript>
<h1>Fees</h1>
<p>Fees are charged <b>monthly</b>.</p>
<script>document.write("INLINE-SCRIPT-TEXT")</script>
<h2>Late payment</h2>
<ul><li>Two percent per month.</li><li>Capped at <em>ten</em> percent.</li></ul>
<table><tr><th>Days late</th><th>Fee</th></tr><tr><td>30</td><td>2%</td></tr></table>
<iframe src="x">IFRAME-TEXT</iframe><template><p>TEMPLATE-TEXT</p></template>
<svg><text>SVG-TEXT</text></svg>
<!-- COMMENT-TEXT -->
<h1>Refunds</h1>
<blockquote>Refunds take ten days.</blockquote>
<pre>  code  line</pre>
<dl><dt>Grace period</dt><dd>Fourteen days.</dd></dl>
</body></html>
"""


def markdown_text() -> bytes:
    return b"""Preface paragraph
on two lines.

# Fees

Fees are charged monthly.

## Late payment

- Two percent per month.
- Capped at ten percent
  of the invoice.

```
fee = amount * 0.02

print(fee)
```

# Refunds #

Refunds take ten days.
"""


def eml(*, html: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Smith <ann.smith@example.com>"
    message["To"] = "bob.jones@example.com"
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    message["Subject"] = "Payment terms"
    if html:
        message.set_content("<html><body><h1>Terms</h1><p>Pay within thirty days.</p></body></html>", subtype="html")
    else:
        message.set_content("Hello Bob,\n\nPay within thirty days.\n\nRegards,\nAnn\n")
        message.add_attachment(b"ATTACHMENT-TEXT", maintype="text", subtype="plain", filename="note.txt")
    return message.as_bytes()
