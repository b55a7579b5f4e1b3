"""A zip uploaded in the browser: the web request stores it, the worker unpacks it into documents
named by their path inside it, and hostile archives or members are refused with their reason."""
import io
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from appliance.audit.models import LedgerEntry
from ingest.blobs import blob_path
from ingest.collections import create_collection
from ingest.models import Archive, Document
from ingest.tasks import ingest_document, unpack_archive
from tests import documents

pytestmark = [pytest.mark.django_db, pytest.mark.services]

LEAVE = "# Leave\n\nAnnual leave is 25 days a year.\n"
LAPTOPS = "Laptops are collected from the service desk on the first day.\n"


def build_zip(members: dict[str, bytes | str], *, encrypted: tuple[str, ...] = ()) -> bytes:
    """A zip of MEMBERS (a name ending in "/" is a folder entry), deflated. zipfile cannot write an
    encrypted member, so the names in ENCRYPTED get the "encrypted" flag set in their headers."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(out.getvalue())
    for name in encrypted:
        encoded = name.encode()
        for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
            at = data.find(signature)
            while data[at + name_at:at + name_at + len(encoded)] != encoded:
                at = data.find(signature, at + 1)
            data[at + flag_at] |= 0x1
    return bytes(data)


@pytest.fixture
def handbook(admin):
    return create_collection("Handbook", "internal", [Group.objects.get_or_create(name="analysts")[0]], False, admin)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def upload_zip(client, collection, name: str, data: bytes, capture) -> str:
    """Upload through the page; returns the page the admin lands on. The unpacking is queued, not run."""
    with capture() as queued:
        response = client.post(f"/administration/collections/{collection.pk}/upload/",
                               {"files": [SimpleUploadedFile(name, data)]}, follow=True)
    assert len(queued) == 1
    return response.content.decode()


def unpack(collection) -> Archive:
    archive = collection.archives.get(status="queued")
    unpack_archive(archive.pk)  # what the worker runs
    archive.refresh_from_db()
    return archive


def table(client, collection) -> str:
    return client.get(f"/administration/collections/{collection.pk}/documents/").content.decode()


def test_it_unpacks_a_zip_into_documents_named_by_their_path(
    admin_client, admin, handbook, django_capture_on_commit_callbacks
):
    bundle = build_zip({
        "handbook/": b"", "handbook/hr/": b"",
        "handbook/hr/leave.md": LEAVE, "handbook/it/laptops.txt": LAPTOPS,
        "handbook/it/logo.png": documents.png(), "handbook/README": "read me", "handbook/setup.exe": b"MZ",
        "handbook/.git/notes.md": "# Hidden\n", "__MACOSX/handbook/hr/._leave.md": b"\x00\x05",
        "handbook/empty.txt": b"",
    })

    page = upload_zip(admin_client, handbook, "bundle.zip", bundle, django_capture_on_commit_callbacks)

    assert "bundle.zip stored: the worker unpacks it, and its documents appear below." in page
    assert "bundle.zip: waiting for the worker to unpack it…" in page
    assert not Document.objects.exists()  # the web request only stores the zip
    archive = handbook.archives.get()
    assert blob_path(archive).exists()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        archive = unpack(handbook)

    assert archive.status == "unpacked"
    assert {d.filename: d.status for d in Document.objects.all()} == {
        "handbook/hr/leave.md": "queued", "handbook/it/laptops.txt": "queued", "handbook/empty.txt": "failed",
    }
    assert len(queued) == 2  # each good member goes to the worker as its own document
    assert not blob_path(archive).exists()  # the documents hold their own copies
    unpacked = LedgerEntry.objects.get(action="archive.unpacked").details
    assert unpacked == {
        "collection": "Handbook", "filename": "bundle.zip", "members": 10, "added": 2, "replaced": 0,
        "unchanged": 0, "duplicate": 0, "failed": 1, "hidden": 2,
        "unaccepted": {".png": 1, ".exe": 1, "(no extension)": 1}, "refused": [],
    }
    uploaded = LedgerEntry.objects.filter(action="document.uploaded").order_by("seq")
    assert [(e.actor_name, e.details["filename"]) for e in uploaded] == [
        (admin.username, "handbook/hr/leave.md"), (admin.username, "handbook/it/laptops.txt"), (admin.username, "handbook/empty.txt"),
    ]
    shown = table(admin_client, handbook)
    assert "bundle.zip unpacked: 2 documents added, 0 replaced, 0 unchanged, 1 failed (see the table)." in shown
    assert ("Skipped: 2 hidden files; 3 files of types the appliance does not accept "
            "((no extension), .exe, .png).") in shown
    assert "“handbook/empty.txt” is empty (0 bytes); there is nothing to index." in shown


def test_it_refuses_hostile_members_alone_and_unpacks_the_rest(
    admin_client, handbook, django_capture_on_commit_callbacks
):
    bundle = build_zip({
        "good.md": LEAVE, "../evil.md": "# Out\n\nClimbing.\n", "sub/../../evil.md": "# Out\n",
        "/etc/cron.d/evil.md": "# Absolute\n", "C:\\evil.md": "# Drive\n", "bomb.txt": bytes(5_000_000),
        "locked.md": "# Secret\n", "inner.zip": documents.zip_archive(),
    }, encrypted=("locked.md",))
    bomb = zipfile.ZipFile(io.BytesIO(bundle)).getinfo("bomb.txt")
    upload_zip(admin_client, handbook, "hostile.zip", bundle, django_capture_on_commit_callbacks)

    archive = unpack(handbook)

    assert archive.status == "unpacked"
    assert list(Document.objects.values_list("filename", flat=True)) == ["good.md"]
    refusals = [
        "“../evil.md” climbs out of the archive (“..”); not unpacked.",
        "“sub/../../evil.md” climbs out of the archive (“..”); not unpacked.",
        "“/etc/cron.d/evil.md” has an absolute path; not unpacked (a member must stay inside the archive).",
        "“C:/evil.md” has an absolute path; not unpacked (a member must stay inside the archive).",
        f"“bomb.txt” looks like a zip bomb, so it was not unpacked: it would expand "
        f"{bomb.file_size / bomb.compress_size:,.0f} times ({bomb.compress_size:,} to 5,000,000 bytes), "
        "and more than 100 times is refused.",
        "“locked.md” is encrypted (password-protected); not unpacked. Put it in the archive without a password.",
        "“inner.zip” is an archive inside the archive; archives inside archives are not unpacked. "
        "Upload it on its own.",
    ]
    assert archive.problems == refusals
    details = LedgerEntry.objects.get(action="archive.unpacked").details
    assert [refused["code"] for refused in details["refused"]] == [
        "zip_slip", "zip_slip", "zip_slip", "zip_slip", "zip_bomb", "encrypted_member", "nested_archive",
    ]
    shown = table(admin_client, handbook)
    assert "hostile.zip unpacked: 1 document added, 0 replaced, 0 unchanged." in shown
    assert "“inner.zip” is an archive inside the archive" in shown


def test_it_refuses_an_archive_with_too_many_entries(admin_client, handbook, django_capture_on_commit_callbacks):
    bundle = build_zip({f"notes/{n}.txt": "" for n in range(10_001)})
    upload_zip(admin_client, handbook, "many.zip", bundle, django_capture_on_commit_callbacks)

    archive = unpack(handbook)

    assert (archive.status, archive.error_code) == ("refused", "too_many_members")
    assert not Document.objects.exists()
    assert not blob_path(archive).exists()
    assert LedgerEntry.objects.get(action="archive.refused").details == {
        "collection": "Handbook", "filename": "many.zip", "error_code": "too_many_members",
    }
    assert ("many.zip was not unpacked. “many.zip” has 10,001 entries; an archive may hold at most 10,000. "
            "Split it into smaller archives.") in table(admin_client, handbook)


def test_it_refuses_an_archive_that_would_expand_past_the_limit(
    admin_client, handbook, settings, django_capture_on_commit_callbacks
):
    settings.INGEST_MAX_UNZIPPED_MB = 1
    bundle = build_zip({"a.md": LEAVE, "b.txt": "a " * 300_000, "c.txt": "b " * 300_000})
    upload_zip(admin_client, handbook, "large.zip", bundle, django_capture_on_commit_callbacks)

    archive = unpack(handbook)

    assert (archive.status, archive.error_code) == ("refused", "zip_bomb")
    assert archive.error_message == ("“large.zip” looks like a zip bomb, so it was not unpacked: it would expand to "
                                     "1.2 MB, over the limit of 1 MB (INGEST_MAX_UNZIPPED_MB).")
    assert not Document.objects.exists()


def test_it_refuses_a_zip_name_on_other_content_without_storing_it(
    admin_client, handbook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(f"/administration/collections/{handbook.pk}/upload/",
                                     {"files": [SimpleUploadedFile("photos.zip", documents.png()),
                                                SimpleUploadedFile("fees.zip", documents.fees_docx())]}, follow=True)

    page = response.content.decode()
    assert ("“photos.zip” is named as a zip archive but its content is an image (image/png); "
            "upload the right file, or give it the extension of its content.") in page
    assert ("“fees.zip” is named as a zip archive but its content is a Word document (DOCX); "
            "upload the right file, or give it the extension of its content.") in page
    assert not queued and not Archive.objects.exists()


def test_it_keeps_unchanged_members_and_replaces_changed_ones(
    admin_client, handbook, parts, django_capture_on_commit_callbacks
):
    upload_zip(admin_client, handbook, "v1.zip", build_zip({"hr/leave.md": LEAVE, "it/laptops.txt": LAPTOPS}),
               django_capture_on_commit_callbacks)
    unpack(handbook)
    for document in Document.objects.all():
        ingest_document(document.pk)

    changed = build_zip({"hr/leave.md": LEAVE, "it/laptops.txt": LAPTOPS + "Chargers too.\n", "it/vpn.md": "# VPN\n\nUse it.\n"})
    upload_zip(admin_client, handbook, "v2.zip", changed, django_capture_on_commit_callbacks)
    archive = unpack(handbook)

    assert {(d.filename, d.version, d.status) for d in Document.objects.all()} == {
        ("hr/leave.md", 1, "ready"), ("it/laptops.txt", 1, "ready"), ("it/laptops.txt", 2, "queued"),
        ("it/vpn.md", 1, "queued"),
    }
    assert Document.objects.get(filename="it/laptops.txt", version=2).replaces.version == 1
    assert "v2.zip unpacked: 1 document added, 1 replaced, 1 unchanged." in table(admin_client, handbook)
    assert archive.counts == {"added": 1, "replaced": 1, "unchanged": 1, "unaccepted": {}, "refused": 0}
