"""`manage.py reindex`: existing collections get what new uploads get, and an old store is rebuilt."""
import json
from io import StringIO

import pytest
import qdrant_edge as edge
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from appliance.audit.models import LedgerEntry
from appliance.runtime import release_store
from ingest.models import Chunk, Document

pytestmark = pytest.mark.django_db

HANDBOOK = (
    "# Leave\n\nAnnual leave is 28 days a year, booked in the leave planner.\n\n"
    "# Travel\n\nHotels in capitals cost at most EUR 220 per night.\n"
)


def run(*args, **options):
    out = StringIO()
    call_command("reindex", *args, stdout=out, stderr=StringIO(), **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def handbook(tmp_path, analyst):
    (tmp_path / "handbook.md").write_text(HANDBOOK)
    call_command("ingest", str(tmp_path / "handbook.md"), collection="HR", grant=["analysts"], stdout=StringIO())
    return Document.objects.get(filename="handbook.md")


def search(text):
    out = StringIO()
    call_command("search", text, collection="HR", user="alice", k=1, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_indexes_a_collection_again_and_records_it(handbook):
    lines = run(collections=["HR"])

    assert lines == [{"collection": "HR", "document": "handbook.md", "status": "ready", "chunks": 2, "error": None}]
    assert LedgerEntry.objects.filter(action="document.reindexed").count() == 1
    assert Chunk.objects.filter(document=handbook).count() == 2
    assert search("hotel price per night")[0]["text"] == "Hotels in capitals cost at most EUR 220 per night."


def test_it_rebuilds_a_store_built_by_an_earlier_version(handbook):
    release_store()
    path = settings.RETRIEVAL_EDGE_PATH
    import shutil

    shutil.rmtree(path)
    edge.EdgeShard.create(str(path), edge.EdgeConfig(vectors=edge.EdgeVectorParams(size=384, distance=edge.Distance.Cosine))).close()
    with pytest.raises(CommandError) as error:
        search("hotel")
    assert "python manage.py reindex --all" in str(error.value)

    lines = run(all=True, if_outdated=True)

    assert [line["status"] for line in lines] == ["ready"]
    assert search("How many days of annual leave?")[0]["section"] == "Leave"
    assert run(all=True, if_outdated=True) == []  # up to date now: nothing to do


def test_it_names_an_unknown_collection(handbook):
    with pytest.raises(CommandError) as error:
        run(collections=["Nope"])

    assert str(error.value) == "no collection named Nope"
