"""`manage.py ingest` while a worker holds the embedded store: the command cannot index in its own
process, so it takes the files in as the browser's upload does (blob, document row,
`document.uploaded`, a task queued to the worker) and then follows the worker until each
document is ready or failed, printing the JSON line the in-process path would print.

Interrupting the command (Ctrl-C) stops the following, not the work: the worker indexes what was
handed to it. Running the same command again follows the documents still in progress (their
files are unchanged) and hands over only what is new.
"""
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from tqdm import tqdm

from appliance.errors import IngestRejected
from ingest.erasure import request_document_erasure
from ingest.folders import FolderFile, FolderSummary, held_versions, is_unchanged, outcome, walk_folder
from ingest.models import Collection, Document
from ingest.uploads import accept_upload

POLL_SECONDS = 1.0
WAITING = (Document.Status.QUEUED, Document.Status.PARSING, Document.Status.SCANNING, Document.Status.EMBEDDING)


@dataclass
class Handed:
    """One JSON line: complete, or waiting for the worker to finish DOCUMENT_ID."""

    line: dict
    document_id: int | None = None
    action: str | None = None
    is_single_file: bool = False  # a single file's line has no "version" (as in the in-process path)

    def complete(self, document: Document | None) -> dict:
        if document is None or document.status == Document.Status.ERASING:
            return {**self.line, "status": "erased", "action": self.action, "error": "erased before it was indexed"}
        done = outcome(document)
        if self.is_single_file:
            del done["version"]
            return {**self.line, **done}
        return {**self.line, **done, "action": self.action}


def hand_off_files(collection: Collection, paths: list[Path]) -> list[Handed]:
    """Single files, each a document named by its file name."""
    handed = []
    for path in progress(paths, "handing to the worker"):
        line = {"file": str(path), "status": "failed", "chunks": 0, "entities": {}, "error": None}
        try:
            with path.open("rb") as handle:
                document = accept_upload(collection, path.name, File(handle), None)
        except OSError as error:
            handed.append(Handed({**line, "error": f"cannot read {path}: {error.strerror}"}))
            continue
        except IngestRejected as rejection:
            handed.append(Handed({**line, "status": rejection.code, "error": rejection.message}))
            continue
        handed.append(Handed(line, document.pk, is_single_file=True))
    return handed


def hand_off_folder(collection: Collection, folder: Path, *, is_sync: bool) -> tuple[list[Handed], FolderSummary]:
    """A folder under the rules of ingest/folders.py; erasures (with IS_SYNC) are requested from the
    worker (`document.erasure_requested`, then its `document.erased`), and the document leaves search
    at once. Raises OSError when FOLDER cannot be read."""
    walk = walk_folder(folder)
    held = held_versions(collection)
    handed = []
    if is_sync:  # erasures first, as in-process: a file moved to another path is then added there
        present = {file.name for file in walk.files}
        unread = tuple(f"{file.name}/" for file in walk.files if file.is_folder)
        for name in sorted(n for n in set(held) - present if not n.startswith(unread)):
            versions = held.pop(name)
            for document in versions:
                request_document_erasure(document, None)
            handed.append(Handed({"file": str(folder / name), "document": name, "status": "erased", "action": "erased",
                                  "version": versions[-1].version, "chunks": versions[-1].chunk_count, "entities": {},
                                  "error": None}))
    for file in progress(walk.files, "handing to the worker"):
        handed.append(hand_off_file(collection, file, held))
    return handed, FolderSummary(walk, is_sync)


def hand_off_file(collection: Collection, file: FolderFile, held: dict[str, list[Document]]) -> Handed:
    """As folders.sync_file, with the indexing (and the erasure of a failed earlier version) left to
    the worker. A file whose document is still being indexed (a run interrupted earlier) is
    unchanged: its line waits for that document."""
    line = {"file": str(file.path), "document": file.name, "status": "failed", "action": None, "chunks": 0,
            "entities": {}, "error": file.problem}
    if file.problem:
        return Handed(line)
    versions = held.get(file.name, [])
    try:
        with file.path.open("rb") as handle:
            if versions and is_unchanged(versions[-1], handle):
                latest = versions[-1]
                return Handed(line, latest.pk, "unchanged") if latest.status in WAITING else Handed(
                    {**line, **outcome(latest), "action": "unchanged"})
            current = next((d for d in reversed(versions) if d.status == Document.Status.READY), None)
            if any(d.is_in_progress for d in versions):
                return Handed({**line, "error": f"“{file.name}” has a version the worker has not finished; run again later."})
            for failed in [d for d in versions if d.status == Document.Status.FAILED]:
                request_document_erasure(failed, None)  # a new version takes the place of a failed one
            handle.seek(0)
            document = accept_upload(collection, file.name, File(handle), None, replaces=current)
    except OSError as error:
        return Handed({**line, "error": f"cannot read {file.path}: {error.strerror}"})
    except IngestRejected as rejection:
        return Handed({**line, "status": rejection.code, "error": rejection.message})
    return Handed(line, document.pk, "replaced" if current else "added")


def follow(handed: list[Handed], write_line: Callable[[dict], None], *, sleep=time.sleep) -> None:
    """Print each line, in order, once its document is ready or failed; a progress bar on stderr
    (documents done of those handed over, and chunks per second). Raises KeyboardInterrupt as
    it came: the caller says what goes on without it."""
    waiting = {item.document_id: item for item in handed if item.document_id is not None}
    finished: dict[int, dict] = {}
    printed, chunks, started = 0, 0, time.monotonic()
    with tqdm(total=len(handed), desc="indexed by the worker", unit="doc", file=sys.stderr, disable=None) as bar:
        bar.update(len(handed) - len(waiting))
        while True:
            for document_id, document in settled(list(waiting)).items():
                item = waiting.pop(document_id)
                finished[id(item)] = item.complete(document)
                chunks += document.chunk_count if document is not None else 0
                bar.update(1)
            if finished:
                bar.set_postfix_str(f"{chunks / max(time.monotonic() - started, 1e-9):.1f} chunks/s", refresh=False)
            while printed < len(handed) and (handed[printed].document_id is None or id(handed[printed]) in finished):
                item = handed[printed]
                with tqdm.external_write_mode(file=sys.stdout):
                    write_line(finished.pop(id(item), None) or item.line)
                printed += 1
            if printed == len(handed):
                return
            sleep(POLL_SECONDS)


def settled(document_ids: list[int]) -> dict[int, Document | None]:
    """The documents among DOCUMENT_IDS the worker is done with (ready, failed), or that were
    erased meanwhile (None, or ERASING)."""
    done: dict[int, Document | None] = {}
    for start in range(0, len(document_ids), 500):  # SQLite's limit on query parameters
        batch = document_ids[start:start + 500]
        found = {document.pk: document for document in Document.objects.filter(pk__in=batch)}
        for document_id in batch:
            document = found.get(document_id)
            if document is None or document.status not in WAITING:
                done[document_id] = document
    return done


def progress(items: list, description: str) -> Iterable:
    return tqdm(items, desc=description, unit="file", file=sys.stderr, disable=None)

