"""Zip archives uploaded in the browser: stored by the web request, unpacked by the worker.

Each member becomes a document named by its path inside the archive, with forward slashes
("hr/leave.md"), under the rules of folder ingestion (ingest/folders.py): the same path with the
same content is left alone, changed content becomes a new version that replaces the old one, and
content the collection already holds under another name is not added. Members go through
accept_upload, so each is recorded in the ledger and indexed like a file uploaded on its own.

The zip is checked from its directory before anything is inflated, with the limits of a DOCX
(INGEST_MAX_UNZIPPED_MB in total, MAX_ZIP_RATIO per member), and deleted once unpacked: the
documents hold their own copies, and erasing a document must leave no copy of it behind.
"""
import hashlib
import io
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import magic
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from appliance.audit.recording import record_event
from appliance.errors import IngestRejected
from appliance.retrieval.store import VectorStore
from ingest.blobs import erase_blob, read_blob, save_blob
from ingest.claims import ARCHIVE_WORKING, claimable, lease_end, new_claim
from ingest.erasure import erase_document
from ingest.folders import MAX_NAME, held_versions, plural
from ingest.models import Archive, Collection, Document
from ingest.parsing import (
    EXTENSION_TYPES, MAGIC_SAMPLE_BYTES, MAX_ARCHIVE_MEMBERS, MAX_ZIP_RATIO, describe_mime, has_word_document,
    too_large,
)
from ingest.uploads import accept_upload

ZIP_MIMES = ("application/zip", "application/x-zip-compressed")
WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")


def is_archive_name(filename: str) -> bool:
    return PurePosixPath(filename).suffix.lower() == ".zip"


def accept_archive(collection: Collection, filename: str, content: File, actor) -> Archive:
    """Store an uploaded zip and, once the transaction commits, hand it to the worker to unpack.

    Raises IngestRejected when the zip is over the upload size limit (code "too_large", never
    read) or its content is not a zip archive (code "not_a_zip"); nothing is recorded then.
    """
    max_bytes = settings.INGEST_MAX_FILE_MB * 1_000_000
    if content.size > max_bytes:
        rejection = too_large(content.size, max_bytes)
        raise IngestRejected(f"“{filename}”: {rejection.message}", code=rejection.code)
    data = content.read()
    mime = magic.from_buffer(data[:MAGIC_SAMPLE_BYTES], mime=True)
    if mime not in ZIP_MIMES or has_word_document(data):
        kind = "a Word document (DOCX)" if has_word_document(data) else describe_mime(mime)
        raise IngestRejected(
            f"“{filename}” is named as a zip archive but its content is {kind}; "
            "upload the right file, or give it the extension of its content.",
            code="not_a_zip",
        )
    with transaction.atomic():
        archive = Archive.objects.create(
            collection=collection, filename=filename[:MAX_NAME], content_sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data), uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        )
        save_blob(archive, data)
        record_event("archive.uploaded", actor, archive, collection=collection.name, filename=archive.filename,
                     sha256=archive.content_sha256, size_bytes=archive.size_bytes)
        from ingest.tasks import unpack_archive as unpack_task

        transaction.on_commit(lambda: unpack_task.delay(archive.pk))
    return archive


# -- In the worker --------------------------------------------------------------------------------


class MemberRefused(Exception):
    """One member is not unpacked; the sentence says why. The other members go ahead."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Unpacking:
    members: int
    counts: Counter = field(default_factory=Counter)  # added, replaced, unchanged, duplicate, failed, hidden
    unaccepted: Counter = field(default_factory=Counter)  # by extension
    refused: list[MemberRefused] = field(default_factory=list)


def unpack_archive(archive: Archive, store: VectorStore) -> Archive:
    """Unpack ARCHIVE into documents queued for indexing; returns it UNPACKED or REFUSED (or
    untouched when it is not waiting to be unpacked). A whole archive is refused when it is
    damaged, has too many entries or would expand too far; a bad member is refused alone. Raises
    nothing for a bad archive.

    A task delivered again after a worker crash (or queued again by ingest/claims.py) unpacks
    again: members already taken are "unchanged" (same path, same content), so nothing is added
    twice.
    """
    # Claimed as a document is (ingest/claims.py): a second delivery leaves a live run alone.
    claimable_now = claimable(Archive.Status.QUEUED, ARCHIVE_WORKING)
    if not Archive.objects.filter(claimable_now, pk=archive.pk).update(
            status=Archive.Status.UNPACKING, claimed_by=new_claim(), lease_until=lease_end()):
        return archive
    try:
        with open_zip(read_blob(archive), archive.filename) as zipped:
            members = zipped.infolist()
            check_archive(archive.filename, members)
            unpacking = unpack_members(archive, zipped, members, store)
    except IngestRejected as rejection:
        refuse(archive, rejection)
    else:
        record_unpacking(archive, unpacking)
    erase_blob(archive)
    archive.refresh_from_db()
    return archive


def open_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise IngestRejected(f"“{filename}” is a damaged zip archive that the appliance cannot read; "
                             "make it again and upload the new copy.", code="corrupt_zip") from error


def check_archive(filename: str, members: list[zipfile.ZipInfo]) -> None:
    """Refuse the whole archive before anything is inflated; the sizes are those the zip declares
    (zipfile never inflates a member past its declared size: a lying member fails its CRC)."""
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise IngestRejected(
            f"“{filename}” has {len(members):,} entries; an archive may hold at most {MAX_ARCHIVE_MEMBERS:,}. "
            "Split it into smaller archives.",
            code="too_many_members",
        )
    total, limit = sum(member.file_size for member in members), settings.INGEST_MAX_UNZIPPED_MB * 1_000_000
    if total > limit:
        raise IngestRejected(
            f"“{filename}” looks like a zip bomb, so it was not unpacked: it would expand to "
            f"{total / 1_000_000:.1f} MB, over the limit of {limit / 1_000_000:g} MB (INGEST_MAX_UNZIPPED_MB).",
            code="zip_bomb",
        )


def unpack_members(archive: Archive, zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                   store: VectorStore) -> Unpacking:
    unpacking, held = Unpacking(members=len(members)), held_versions(archive.collection)
    for member in members:
        if member.is_dir():
            continue
        name = member.filename.replace("\\", "/")
        try:
            skipped = skip_reason(name)
            if skipped == "hidden":
                unpacking.counts["hidden"] += 1
            elif skipped:
                unpacking.unaccepted[skipped] += 1
            else:
                check_member(member, name)
                unpacking.counts[take_member(archive, name, read_member(zipped, member, name), held, store)] += 1
        except MemberRefused as refusal:
            unpacking.refused.append(refusal)
    return unpacking


def skip_reason(name: str) -> str | None:
    """"hidden", the extension of a type the appliance does not accept, or None for a member to
    take. A path that climbs out of the archive or an archive inside it is refused instead."""
    parts = name.split("/")
    if name.startswith("/") or WINDOWS_DRIVE.match(name):
        raise MemberRefused(f"“{name}” has an absolute path; not unpacked (a member must stay inside the archive).",
                            "zip_slip")
    if ".." in parts:
        raise MemberRefused(f"“{name}” climbs out of the archive (“..”); not unpacked.", "zip_slip")
    if any(part.startswith(".") for part in parts if part not in ("", ".")):
        return "hidden"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".zip":
        raise MemberRefused(f"“{name}” is an archive inside the archive; archives inside archives are not "
                            "unpacked. Upload it on its own.", "nested_archive")
    if suffix not in EXTENSION_TYPES:
        return suffix or "(no extension)"
    return None


def check_member(member: zipfile.ZipInfo, name: str) -> None:
    if member.flag_bits & 0x1:
        raise MemberRefused(f"“{name}” is encrypted (password-protected); not unpacked. "
                            "Put it in the archive without a password.", "encrypted_member")
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > MAX_ZIP_RATIO:
        raise MemberRefused(
            f"“{name}” looks like a zip bomb, so it was not unpacked: it would expand {ratio:,.0f} times "
            f"({member.compress_size:,} to {member.file_size:,} bytes), and more than {MAX_ZIP_RATIO} times is refused.",
            "zip_bomb",
        )
    if len(name) > MAX_NAME:
        raise MemberRefused(f"“{name}” has a path longer than {MAX_NAME} characters; not unpacked.", "name_too_long")


def read_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> bytes:
    try:
        return zipped.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise MemberRefused(f"“{name}” is damaged inside the archive; not unpacked.", "corrupt_member") from error


def take_member(archive: Archive, name: str, data: bytes, held: dict[str, list[Document]], store: VectorStore) -> str:
    """Add the member as a document, a new version of the one under its path, or leave it be;
    returns what happened: "added", "replaced", "unchanged", "duplicate" or "failed" (a failed
    document, whose reason the admin reads in the documents table)."""
    versions = held.get(name, [])
    if versions and versions[-1].content_sha256 == hashlib.sha256(data).hexdigest():
        return "unchanged"
    if any(document.is_in_progress for document in versions):
        raise MemberRefused(f"“{name}” has a version the worker has not finished; upload the archive again later.",
                            "in_progress")
    current = next((d for d in reversed(versions) if d.status == Document.Status.READY), None)
    for failed in [d for d in versions if d.status == Document.Status.FAILED]:
        erase_document(failed, None, store)  # a new version takes the place of a failed one
    try:
        document = accept_upload(archive.collection, name, ContentFile(data, name=PurePosixPath(name).name),
                                 archive.uploaded_by, replaces=current)
    except IngestRejected as rejection:
        if rejection.code == "duplicate":
            return "duplicate"
        raise
    held[name] = [d for d in versions if d.status != Document.Status.FAILED] + [document]
    if document.status == Document.Status.FAILED:
        return "failed"
    return "replaced" if current else "added"


def refuse(archive: Archive, rejection: IngestRejected) -> None:
    with transaction.atomic():
        Archive.objects.filter(pk=archive.pk).update(status=Archive.Status.REFUSED, lease_until=None,
                                                     error_code=rejection.code, error_message=rejection.message)
        record_event("archive.refused", None, archive, collection=archive.collection.name, filename=archive.filename,
                     error_code=rejection.code)


def record_unpacking(archive: Archive, unpacking: Unpacking) -> None:
    counts = {**unpacking.counts, "unaccepted": dict(unpacking.unaccepted), "refused": len(unpacking.refused)}
    with transaction.atomic():
        Archive.objects.filter(pk=archive.pk).update(
            status=Archive.Status.UNPACKED, lease_until=None, counts=counts, problems=[refusal.message for refusal in unpacking.refused],
        )
        record_event(
            "archive.unpacked", None, archive, collection=archive.collection.name, filename=archive.filename,
            members=unpacking.members, **{kind: unpacking.counts[kind] for kind in
                                          ("added", "replaced", "unchanged", "duplicate", "failed", "hidden")},
            unaccepted=dict(unpacking.unaccepted),
            refused=[{"code": refusal.code, "message": refusal.message} for refusal in unpacking.refused],
        )


def describe_archive(archive: Archive) -> list[str]:
    """What became of ARCHIVE, in sentences for the collection page."""
    if archive.status == Archive.Status.QUEUED:
        return [f"{archive.filename}: waiting for the worker to unpack it…"]
    if archive.status == Archive.Status.UNPACKING:
        return [f"{archive.filename}: being unpacked…"]
    if archive.status == Archive.Status.REFUSED:
        return [f"{archive.filename} was not unpacked. {archive.error_message}"]
    counts = Counter({key: value for key, value in archive.counts.items() if isinstance(value, int)})
    failed = f", {counts['failed']} failed (see the table)" if counts["failed"] else ""
    lines = [f"{archive.filename} unpacked: {counts['added']} document{plural(counts['added'])} added, "
             f"{counts['replaced']} replaced, {counts['unchanged']} unchanged{failed}."]
    if counts["duplicate"]:
        lines.append(f"{counts['duplicate']} file{plural(counts['duplicate'])} identical to a document the collection "
                     "already holds under another name: not added.")
    skipped = []
    if counts["hidden"]:
        skipped.append(f"{counts['hidden']} hidden file{plural(counts['hidden'])}")
    unaccepted = archive.counts.get("unaccepted", {})
    if total := sum(unaccepted.values()):
        skipped.append(f"{total} file{plural(total)} of types the appliance does not accept "
                       f"({', '.join(sorted(unaccepted))})")
    if skipped:
        lines.append(f"Skipped: {'; '.join(skipped)}.")
    return lines + list(archive.problems)
