import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from appliance.errors import StoreUnavailable
from appliance.retrieval.store import StoreOutdated, open_store
from appliance.runtime import borrowed_parts
from ingest.models import Collection
from ingest.reindexing import documents_to_reindex, reindex_document


class Command(BaseCommand):
    help = (
        "Index ready documents again from their stored files (after an upgrade changed parsing or vectors); "
        "prints one JSON line per document, progress on stderr."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--collection", action="append", dest="collections", metavar="NAME",
                           help="reindex this collection's documents (repeatable)")
        which.add_argument("--all", action="store_true",
                           help="rebuild the vector store from nothing and reindex every document")
        parser.add_argument("--if-outdated", action="store_true",
                            help="with --all: only when the store was built by an earlier version (make run does this)")

    def handle(self, *args, collections, all, if_outdated, **options):
        if if_outdated and not self.store_is_outdated():
            return
        if collections:
            unknown = sorted(set(collections) - set(Collection.objects.filter(name__in=collections).values_list("name", flat=True)))
            if unknown:
                raise CommandError(f"no collection named {', '.join(unknown)}")
        documents = list(documents_to_reindex(None if all else collections))
        failed = 0
        try:
            with borrowed_parts(rebuild=all) as parts:
                for document in tqdm(documents, desc="Reindexing", unit="doc", file=sys.stderr, disable=None):
                    document = reindex_document(document, parts)
                    failed += document.status == document.Status.FAILED
                    self.stdout.write(json.dumps({
                        "collection": document.collection.name, "document": document.filename, "status": document.status,
                        "chunks": document.chunk_count, "error": document.error_message or None,
                    }))
        except StoreUnavailable as error:
            raise CommandError(error.message) from None
        self.stderr.write(f"Reindexed {len(documents) - failed} document(s); {failed} failed.")

    def store_is_outdated(self) -> bool:
        try:
            open_store().close()
            return False
        except StoreOutdated:
            self.stderr.write("The vector store was built by an earlier version: rebuilding it.")
            return True
        except StoreUnavailable as error:
            raise CommandError(error.message) from None
