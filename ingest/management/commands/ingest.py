import json
import sys
from collections.abc import Iterator
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from appliance.errors import IngestRejected, StoreUnavailable
from appliance.health.heartbeat import is_worker_alive, latest_heartbeat
from appliance.runtime import borrowed_parts
from ingest.collections import configure_collection
from ingest.batching import index_documents, scanner_for
from ingest.claims import take_back_for_this_command
from ingest.folders import FolderSummary, erase_missing, held_versions, is_unchanged, outcome, sync_files, walk_folder
from ingest.handoff import follow, hand_off_files, hand_off_folder
from ingest.models import Classification, Document
from ingest.uploads import accept_upload


class Command(BaseCommand):
    help = (
        "Ingest files, or whole folders with --recursive, into a collection in this process; prints one JSON "
        "line per file, progress and a summary on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders with --recursive or --sync")
        parser.add_argument("--collection", required=True)
        parser.add_argument("--classification", choices=Classification.values)
        parser.add_argument("--grant", action="append", default=[], metavar="GROUP", help="team group to grant (repeatable)")
        parser.add_argument("--redact-pii", action="store_true", help="redact personal data before indexing")
        parser.add_argument("--recursive", action="store_true",
                            help="walk folders: add new files, replace changed ones, leave unchanged ones alone")
        parser.add_argument("--sync", action="store_true",
                            help="like --recursive for one folder, and erase the documents whose file is gone from it")

    def handle(self, *args, paths, collection, classification, grant, redact_pii, recursive, sync, **options):
        paths = [Path(name) for name in paths]
        check_paths(paths, is_folders=recursive or sync, is_sync=sync)
        groups = list(Group.objects.filter(name__in=grant))
        unknown = sorted(set(grant) - {group.name for group in groups})
        if unknown:
            raise CommandError(f"no such group: {', '.join(unknown)} (create it, or check the spelling)")
        try:
            with borrowed_parts() as parts:
                target = configure_collection(collection, classification=classification, grant=groups,
                                              redact_pii=redact_pii or None, actor=None)
                take_back_for_this_command(target)
                if recursive or sync:
                    self.ingest_folders(target, paths, parts, is_sync=sync)
                else:
                    for line in ingest_files(target, paths, parts, scanner_for(len(paths), parts)):
                        self.stdout.write(json.dumps(line))
        except KeyboardInterrupt:
            self.stderr.write("Stopped. The documents whose JSON line was printed are indexed and kept. Running this "
                              "command again indexes the rest of a folder, the documents this run left half done "
                              "included; a worker, when it starts, finishes those too.")
            raise SystemExit(130) from None
        except StoreUnavailable as error:
            if not is_worker_alive(latest_heartbeat()):
                raise CommandError(error.message) from None
            self.hand_off(paths, collection, classification=classification, grant=groups, redact_pii=redact_pii,
                          is_folders=recursive or sync, is_sync=sync)

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except KeyboardInterrupt:  # after the work, while Django closes its connections: nothing to say
            raise SystemExit(130) from None

    def ingest_folders(self, collection, folders, parts, *, is_sync):
        for folder in folders:
            try:
                walk = walk_folder(folder)
            except OSError as error:
                raise CommandError(f"cannot read the folder {folder}: {error.strerror}") from None
            held = held_versions(collection)
            summary = FolderSummary(walk, is_sync)
            with tqdm(total=len(walk.files), desc=str(folder), unit="file", file=sys.stderr, disable=None) as bar:
                scanner = scanner_for(len(walk.files), parts)
                for line in erasures_then_files(collection, walk, held, folder, parts, scanner, is_sync):
                    summary.count(line)
                    with tqdm.external_write_mode(file=sys.stdout):
                        self.stdout.write(json.dumps(line))
                    bar.update(line["action"] != "erased")
            for text in summary.describe():
                self.stderr.write(text)

    def hand_off(self, paths, name, *, classification, grant, redact_pii, is_folders, is_sync):
        """The running worker holds the store: it indexes; this command takes the files in and
        follows (ingest/handoff.py)."""
        self.stderr.write("A running worker holds the vector store: the files are handed to it, and this command "
                          "follows its progress (Ctrl-C stops following, not the indexing).")
        target = configure_collection(name, classification=classification, grant=grant,
                                      redact_pii=redact_pii or None, actor=None)
        try:
            for handed, summary in self.hand_over(target, paths, is_folders=is_folders, is_sync=is_sync):
                follow(handed, lambda line, summary=summary: self.write_line(line, summary))
                for text in summary.describe() if summary else []:
                    self.stderr.write(text)
        except KeyboardInterrupt:
            self.stderr.write("Stopped following. The worker goes on with the files handed to it, and the collection "
                              "page shows its progress; running this command again hands over the files not handed "
                              "yet and follows the documents still in progress.")
            raise SystemExit(130) from None

    def hand_over(self, target, paths, *, is_folders, is_sync):
        """Every file handed to the worker before any is followed: the worker never waits for us.
        Returns (handed, the folder's summary or None for single files) per path."""
        if not is_folders:
            return [(hand_off_files(target, paths), None)]
        batches = []
        for folder in paths:
            try:
                batches.append(hand_off_folder(target, folder, is_sync=is_sync))
            except OSError as error:
                raise CommandError(f"cannot read the folder {folder}: {error.strerror}") from None
        return batches

    def write_line(self, line: dict, summary: FolderSummary | None) -> None:
        if summary is not None:
            summary.count(line)
        self.stdout.write(json.dumps(line))


def erasures_then_files(collection, walk, held, folder, parts, scanner, is_sync):
    # Erasures first: a file moved to another path is then added there, not refused as a duplicate.
    if is_sync:
        yield from erase_missing(held, walk, folder, parts)
    yield from sync_files(collection, walk.files, held, parts, scanner)


def check_paths(paths: list[Path], *, is_folders: bool, is_sync: bool) -> None:
    """Raise CommandError, naming the path, unless each is a folder with --recursive or --sync and a
    file (or a missing file, reported on its own JSON line) without."""
    if is_sync and len(paths) != 1:
        raise CommandError("--sync takes exactly one folder, the one the collection mirrors.")
    for path in paths:
        shown = path.absolute()
        if is_folders and not path.exists():
            raise CommandError(f"“{shown}” does not exist.")
        if is_folders and not path.is_dir():
            raise CommandError(f"“{shown}” is a file, not a folder: leave out --recursive to ingest single files.")
        if not is_folders and path.is_dir():
            raise CommandError(f"“{shown}” is a folder: add --recursive to ingest the files in it and its subfolders.")


def ingest_files(collection, paths: list[Path], parts, scanner) -> Iterator[dict]:
    """One JSON line per path, in order, as its document is indexed."""
    accepted = (accept_path(collection, path) for path in paths)
    for line, document in index_documents(accepted, parts, scanner):
        if document is not None:
            done = outcome(document)
            del done["version"]  # a single file's line keeps the keys it always had
            line = {**line, **done}
        yield line


def accept_path(collection, path: Path) -> tuple[dict, object]:
    """PATH's JSON line so far, and its new document (None when it was not accepted)."""
    line = {"file": str(path), "status": "failed", "chunks": 0, "entities": {}, "error": None}
    try:
        with path.open("rb") as handle:
            waiting = (collection.documents.filter(filename=path.name[:255], status=Document.Status.QUEUED)
                       .order_by("version", "pk").last())
            if waiting is not None and is_unchanged(waiting, handle):
                return line, waiting  # a stopped run's: this run indexes it
            handle.seek(0)
            return line, accept_upload(collection, path.name, File(handle), None, queue=False)
    except OSError as error:
        return {**line, "error": f"cannot read {path}: {error.strerror}"}, None
    except IngestRejected as rejection:
        return {**line, "status": rejection.code, "error": rejection.message}, None
