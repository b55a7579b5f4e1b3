import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from appliance.retrieval.edge_store import EdgeStore
from appliance.runtime import release_store
from ingest.models import Collection

pytestmark = [pytest.mark.django_db, pytest.mark.services]

GUIDE = "# Expenses\n\nTaxi receipts are reimbursed up to 80 euros per trip.\n"
CONTACTS = "Escalations go to Jonas Weber, jonas.weber@example.org, phone +44 20 7946 0958.\n"


def run(command, *args, **options):
    out = StringIO()
    call_command(command, *args, stdout=out, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "expenses.md").write_text(GUIDE)
    (tmp_path / "contacts.txt").write_text(CONTACTS)
    (tmp_path / "empty.txt").write_bytes(b"")
    return tmp_path


def test_it_ingests_files_and_prints_one_json_line_each(files, roles):
    lines = run("ingest", str(files / "expenses.md"), str(files / "contacts.txt"), str(files / "empty.txt"),
                collection="Finance", classification="internal")

    assert [(line["file"].rsplit("/", 1)[1], line["status"]) for line in lines] == [
        ("expenses.md", "ready"), ("contacts.txt", "ready"), ("empty.txt", "failed")]
    assert lines[0]["chunks"] == 1 and lines[0]["entities"] == {} and lines[0]["error"] is None
    assert lines[1]["entities"]["EMAIL_ADDRESS"] == 1 and lines[1]["entities"]["PHONE_NUMBER"] == 1
    assert lines[0]["sensitivity_reason"] == "internal because its collection is classified internal (policy v1)"
    assert lines[1]["sensitivity"] == "confidential" and lines[1]["sensitivity_reason"].startswith(
        "confidential because it contains ")
    assert lines[2]["error"]
    assert Collection.objects.get(name="Finance").classification == "internal"


def test_it_walks_folders_with_recursive_and_reports_duplicates(files, roles):
    run("ingest", str(files / "expenses.md"), collection="Finance")
    (files / "expenses copy.md").write_text(GUIDE)

    lines = run("ingest", str(files), collection="Finance", recursive=True)

    by_name = {line["document"]: (line["status"], line["action"]) for line in lines}
    assert by_name == {"contacts.txt": ("ready", "added"), "empty.txt": ("failed", "added"),
                       "expenses copy.md": ("duplicate", None), "expenses.md": ("ready", "unchanged")}


def test_it_grants_teams_and_searches_as_a_user(files, analyst, officer):
    run("ingest", str(files / "expenses.md"), collection="Finance", grant=["analysts"])

    hits = run("search", "How much is a taxi refund?", collection="Finance", user="alice", k=3)

    assert hits[0]["document"] == "expenses.md"
    assert hits[0]["section"] == "Expenses"
    assert hits[0]["sensitivity"] == "internal"
    assert "80 euros" in hits[0]["text"]
    with pytest.raises(CommandError) as refused:
        run("search", "taxi", collection="Finance", user="charlie")
    assert str(refused.value) == "collection 'Finance' is not granted to any team of 'charlie'"


def test_it_names_an_unknown_group(files, roles):
    with pytest.raises(CommandError) as error:
        run("ingest", str(files / "expenses.md"), collection="Finance", grant=["nobody"])

    assert str(error.value) == "no such group: nobody (create it, or check the spelling)"


def test_it_says_when_the_worker_holds_the_store(files, roles):
    release_store()
    holder = EdgeStore(settings.RETRIEVAL_EDGE_PATH)  # as a running worker would
    try:
        with pytest.raises(CommandError) as error:
            run("ingest", str(files / "expenses.md"), collection="Finance")
    finally:
        holder.close()

    assert str(error.value).startswith(f"The embedded vector store at {settings.RETRIEVAL_EDGE_PATH} is open in another process")
