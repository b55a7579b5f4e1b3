import json
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from appliance.errors import IngestRejected, StoreUnavailable
from appliance.runtime import borrowed_parts
from ingest.collections import configure_collection
from ingest.indexing import index_document
from ingest.models import Classification
from ingest.uploads import accept_upload


class Command(BaseCommand):
    help = "Ingest files into a collection in this process; prints one JSON line per file."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files, or directories to walk")
        parser.add_argument("--collection", required=True)
        parser.add_argument("--classification", choices=Classification.values)
        parser.add_argument("--grant", action="append", default=[], metavar="GROUP", help="team group to grant (repeatable)")
        parser.add_argument("--redact-pii", action="store_true", help="redact personal data before indexing")

    def handle(self, *args, paths, collection, classification, grant, redact_pii, **options):
        files = list(expand(paths))
        groups = list(Group.objects.filter(name__in=grant))
        unknown = sorted(set(grant) - {group.name for group in groups})
        if unknown:
            raise CommandError(f"no such group: {', '.join(unknown)} (create it, or check the spelling)")
        try:
            with borrowed_parts() as parts:
                target = configure_collection(collection, classification=classification, grant=groups,
                                              redact_pii=redact_pii or None, actor=None)
                for path in files:
                    self.stdout.write(json.dumps(ingest_file(target, path, parts)))
        except StoreUnavailable as error:
            raise CommandError(error.message) from None


def expand(paths):
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def ingest_file(collection, path: Path, parts) -> dict:
    line = {"file": str(path), "status": "failed", "chunks": 0, "entities": {}, "error": None}
    try:
        with path.open("rb") as handle:
            document = accept_upload(collection, path.name, File(handle), None, queue=False)
    except OSError as error:
        return {**line, "error": f"cannot read {path}: {error.strerror}"}
    except IngestRejected as rejection:
        return {**line, "status": rejection.code, "error": rejection.message}
    if document.status == document.Status.QUEUED:
        document = index_document(document, parts)
    return {**line, "status": document.status, "chunks": document.chunk_count, "entities": document.entity_counts,
            "sensitivity": document.sensitivity or None, "sensitivity_reason": document.sensitivity_reason or None,
            "error": document.error_message or None}
