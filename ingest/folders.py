"""A whole folder into a collection: walk it, then bring the collection in step with it.

A document's identity in the collection is its path relative to the folder, with forward
slashes ("hr/leave.md"), kept in Document.filename; so "hr/leave.md" and "it/leave.md" are two
documents, and a file is the same document from one run to the next. A file whose content
(sha256) is what the collection holds under that path is left alone; a changed file becomes a
new version that replaces the old one; with `erase_missing` (sync), the documents whose file is
gone are erased. Each change goes through the functions the browser's upload, replacement and
erasure use, so each is recorded in the ledger as those are.
"""
import errno
import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File

from appliance.errors import IngestRejected
from appliance.runtime import WorkerParts
from ingest.erasure import erase_document
from ingest.batching import Scanner, index_documents
from ingest.models import Collection, Document
from ingest.parsing import EXTENSION_TYPES
from ingest.uploads import accept_upload

MAX_NAME = 255  # Document.filename


@dataclass(frozen=True)
class FolderFile:
    path: Path  # as the user spelled the folder, joined with NAME
    name: str  # relative to the folder, forward slashes: the document's filename in the collection
    problem: str | None = None  # why it cannot be read (a link loop, a link outside the folder, ...)
    is_folder: bool = False  # a folder that could not be read: sync keeps the documents under it


@dataclass
class FolderWalk:
    files: list[FolderFile] = field(default_factory=list)
    hidden: int = 0
    folder_links: int = 0  # links to folders inside this one: those are walked where they are
    unaccepted: Counter = field(default_factory=Counter)  # by extension


def walk_folder(folder: Path) -> FolderWalk:
    """The files under FOLDER, ordered by their relative path. Hidden files and folders (a leading dot)
    are skipped, and so are files whose extension the appliance does not accept; both are counted.
    Links to files inside the folder are read; no link to a folder is followed (a file share
    often has links that loop or lead elsewhere). Raises nothing for a bad entry: it becomes a
    FolderFile with its problem. Raises OSError when FOLDER itself cannot be read."""
    walk, root = FolderWalk(), folder.resolve()
    pending = [(folder, PurePosixPath())]
    while pending:
        directory, relative = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            if directory == folder:
                raise
            problem = f"cannot read the folder {directory}: {error.strerror}"
            walk.files.append(FolderFile(directory, str(relative), problem, is_folder=True))
            continue
        for entry in entries:
            name, path = relative / entry.name, directory / entry.name
            if entry.name.startswith("."):
                walk.hidden += 1
            elif entry.is_symlink() and (problem := link_problem(path, str(name), root)):
                walk.files.append(FolderFile(path, str(name), problem))
            elif entry.is_dir(follow_symlinks=False):
                pending.append((path, name))
            elif entry.is_symlink() and entry.is_dir():
                walk.folder_links += 1
            elif (suffix := PurePosixPath(entry.name).suffix.lower()) not in EXTENSION_TYPES:
                walk.unaccepted[suffix or "(no extension)"] += 1
            elif not entry.is_file():
                walk.files.append(FolderFile(path, str(name), f"“{name}” is not a regular file; not read."))
            elif len(str(name)) > MAX_NAME:
                problem = f"“{name}” has a path longer than {MAX_NAME} characters."
                walk.files.append(FolderFile(path, str(name), problem))
            else:
                walk.files.append(FolderFile(path, str(name)))
    walk.files.sort(key=lambda file: file.name)
    return walk


def link_problem(path: Path, name: str, root: Path) -> str | None:
    """Why the link at PATH cannot be followed, or None for a link inside the folder."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return f"“{name}” is a broken link: its target does not exist."
    except (RuntimeError, OSError) as error:  # Python 3.11 raises RuntimeError for a loop, later ones ELOOP
        if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
            return f"“{name}” is a symbolic link loop; not followed."
        return f"cannot read {path}: {error.strerror}"
    if not target.is_relative_to(root):
        return f"“{name}” links outside the folder (to {target}); not followed."
    if target.is_dir() and path.parent.resolve().is_relative_to(target):
        return f"“{name}” is a symbolic link loop; not followed."
    return None


def held_versions(collection: Collection) -> dict[str, list[Document]]:
    """The collection's documents not being erased, by filename, oldest version first."""
    held: dict[str, list[Document]] = {}
    for document in collection.documents.exclude(status=Document.Status.ERASING).order_by("version", "pk"):
        held.setdefault(document.filename, []).append(document)
    return held


def erase_missing(held: dict[str, list[Document]], walk: FolderWalk, folder: Path,
                  parts: WorkerParts) -> Iterator[dict]:
    """Erase the documents whose file is gone from the folder; one line per path. A file that is
    there but could not be read keeps its document."""
    present = {file.name for file in walk.files}
    unread = tuple(f"{file.name}/" for file in walk.files if file.is_folder)
    for name in sorted(n for n in set(held) - present if not n.startswith(unread)):
        versions = held.pop(name)
        for document in versions:
            erase_document(document, None, parts.store)
        yield {"file": str(folder / name), "document": name, "status": "erased", "action": "erased",
               "version": versions[-1].version, "chunks": versions[-1].chunk_count, "entities": {}, "error": None}


def sync_files(collection: Collection, files: list[FolderFile], held: dict[str, list[Document]],
               parts: WorkerParts, scanner: Scanner) -> Iterator[dict]:
    """Add each file, replace the document it changed, or leave it be; yields its JSON line, in
    order, once its document is indexed (ingest.batching indexes them in batches)."""
    accepted = (accept_file(collection, file, held, parts) for file in files)
    for line, document in index_documents(accepted, parts, scanner):
        yield line if document is None else {**line, **outcome(document)}


def accept_file(collection: Collection, file: FolderFile, held: dict[str, list[Document]],
                parts: WorkerParts) -> tuple[dict, Document | None]:
    """FILE's JSON line so far, and the new document to index (None when there is none)."""
    line = {"file": str(file.path), "document": file.name, "status": "failed", "action": None, "chunks": 0,
            "entities": {}, "error": file.problem}
    if file.problem:
        return line, None
    versions = held.get(file.name, [])
    try:
        with file.path.open("rb") as handle:
            if versions and is_unchanged(versions[-1], handle):
                if versions[-1].status == Document.Status.QUEUED:  # a stopped run's: this run indexes it
                    earlier = any(d.status == Document.Status.READY for d in versions[:-1])
                    return {**line, "action": "replaced" if earlier else "added"}, versions[-1]
                return {**line, **outcome(versions[-1]), "action": "unchanged"}, None
            current = next((d for d in reversed(versions) if d.status == Document.Status.READY), None)
            if any(d.is_in_progress for d in versions):
                return {**line, "error": f"“{file.name}” has a version the worker has not finished; run again later."}, None
            for failed in [d for d in versions if d.status == Document.Status.FAILED]:
                erase_document(failed, None, parts.store)  # a new version takes the place of a failed one
            handle.seek(0)
            document = accept_upload(collection, file.name, File(handle), None, replaces=current, queue=False)
    except OSError as error:
        return {**line, "error": f"cannot read {file.path}: {error.strerror}"}, None
    except IngestRejected as rejection:
        return {**line, "status": rejection.code, "error": rejection.message}, None
    return {**line, "action": "replaced" if current else "added"}, document


def is_unchanged(document: Document, handle) -> bool:
    """Whether the open file holds what DOCUMENT holds. A file over the size limit was recorded
    without a hash (it was never read): then the same size counts as the same file."""
    size = os.fstat(handle.fileno()).st_size
    if size > settings.INGEST_MAX_FILE_MB * 1_000_000:
        return document.content_sha256 == "" and document.size_bytes == size
    return document.content_sha256 == hashlib.file_digest(handle, "sha256").hexdigest()


def outcome(document: Document) -> dict:
    return {"status": document.status, "version": document.version, "chunks": document.chunk_count,
            "entities": document.entity_counts, "sensitivity": document.sensitivity or None,
            "sensitivity_reason": document.sensitivity_reason or None, "error": document.error_message or None}


@dataclass
class FolderSummary:
    """What a run did, in words for stderr."""

    walk: FolderWalk
    is_sync: bool
    actions: Counter = field(default_factory=Counter)
    failed: int = 0
    duplicates: int = 0

    def count(self, line: dict) -> None:
        if line["status"] == "failed" and line["action"] != "unchanged":
            self.failed += 1  # recorded as a failed document (the admin sees why), or not readable at all
        elif line["status"] == "duplicate":
            self.duplicates += 1
        else:
            self.actions[line["action"]] += 1

    def describe(self) -> list[str]:
        changed = sum(self.actions[a] for a in ("added", "replaced", "erased"))
        unchanged = self.actions["unchanged"]
        if changed == 0 and self.failed == 0:
            lines = [f"Nothing to do: {unchanged} file{plural(unchanged)} unchanged."]
        else:
            erased = f", erased {self.actions['erased']}" if self.is_sync else ""
            added, replaced = self.actions["added"], self.actions["replaced"]
            lines = [f"Added {added}, replaced {replaced}{erased}, unchanged {unchanged}."]
        if self.failed:
            lines.append(f"{self.failed} file{plural(self.failed)} failed: see their JSON lines.")
        if self.duplicates:
            lines.append(f"{self.duplicates} file{plural(self.duplicates)} identical to a document the collection "
                         "already holds under another name: not added.")
        skipped = []
        if self.walk.hidden:
            hidden = self.walk.hidden
            skipped.append(f"{hidden} hidden file{plural(hidden)} or folder{plural(hidden)}")
        if self.walk.folder_links:
            skipped.append(f"{self.walk.folder_links} link{plural(self.walk.folder_links)} to a folder inside this one "
                           "(walked where it is)")
        if total := sum(self.walk.unaccepted.values()):
            skipped.append(f"{total} file{plural(total)} of types the appliance does not accept "
                           f"({', '.join(sorted(self.walk.unaccepted))})")
        if skipped:
            lines.append(f"Skipped: {'; '.join(skipped)}.")
        return lines


def plural(count: int) -> str:
    return "" if count == 1 else "s"
