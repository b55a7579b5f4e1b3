import json

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from appliance.errors import StoreUnavailable
from appliance.runtime import borrowed_parts
from ingest.models import Collection
from appliance.retrieval.searching import search_chunks


class Command(BaseCommand):
    help = "Search a collection in this process; prints the top chunks as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--collection", required=True)
        parser.add_argument("--user", help="search as this user: only collections granted to their teams")
        parser.add_argument("--k", type=int, default=5, help="how many chunks (default 5)")

    def handle(self, *args, text, collection, user, k, **options):
        if k < 1:
            raise CommandError(f"--k must be at least 1, got {k}")
        target = Collection.objects.filter(name=collection).first()
        if target is None:
            raise CommandError(f"no collection named {collection!r}")
        if user is not None:
            person = User.objects.filter(username=user, is_active=True).first()
            if person is None:
                raise CommandError(f"no active user named {user!r}")
            if not Collection.granted_to(person).filter(pk=target.pk).exists():
                raise CommandError(f"collection {collection!r} is not granted to any team of {user!r}")
        try:
            with borrowed_parts() as parts:
                for hit in search_chunks(text, [target], parts, limit=k):
                    self.stdout.write(json.dumps(hit))
        except StoreUnavailable as error:
            raise CommandError(error.message) from None
