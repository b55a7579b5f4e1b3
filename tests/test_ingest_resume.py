"""Pause and resume: a worker killed mid-batch loses nothing and repeats nothing (ingest/claims.py),
and `manage.py ingest` hands its files to the running worker that holds the store
(ingest/handoff.py). The worker tests run a real Celery worker process and kill it with SIGKILL;
on Redis (APPLIANCE_TEST_SERVICES=1) with a visibility timeout of a few seconds, so tasks are
also delivered twice, as in production."""
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from appliance.audit.models import LedgerEntry
from appliance.health.models import WorkerHeartbeat
from appliance.health.tasks import heartbeat
from appliance.runtime import release_store, worker_parts
from ingest import claims
from ingest.batching import BATCH_CHUNKS
from ingest.collections import create_collection
from ingest.models import Chunk, Document
from ingest.tasks import WORKER_BATCH_DOCUMENTS, ingest_document
from ingest.uploads import accept_upload
from tests.conftest import REPO, database_url_for_children, run_manage, start_worker, stop_worker, upload, wait_for

WAITING = ("queued", "parsing", "scanning", "embedding")
# More than two of the worker's batches: files are still waiting when the first one is printed.
MORE_FILES = 2 * WORKER_BATCH_DOCUMENTS + 2
PEOPLE = ["Jonas Weber", "Maria Rossi", "Aiko Tanaka", "Pedro Alves", "Fatima Khan"]


def note(number: int) -> str:
    """A small file of its own (no two alike: identical content is refused as a duplicate); every
    fifth names a person and an e-mail address, so the PII scan has work."""
    text = (f"# Note {number}\n\nRoom {number % 40} is booked for the planning meeting of week {number % 52 + 1}; "
            f"bring the report numbered {number * 7} and the budget sheet for project {number % 13}.\n")
    if number % 5 == 0:
        person = PEOPLE[number % len(PEOPLE)]
        text += f"\nQuestions go to {person}, {person.split()[0].lower()}.{number}@example.org.\n"
    return text


def wait_until_the_worker_consumes_tasks() -> None:
    """Its heartbeat row is written when it starts, before it opens the store; a task it consumed
    proves it is past its start (and holds the store)."""
    ready = wait_for(lambda: WorkerHeartbeat.objects.filter(worker_name__startswith="test-worker@").first(), 180)
    heartbeat.delay()
    wait_for(lambda: WorkerHeartbeat.objects.filter(pk=ready.pk, last_seen__gt=ready.last_seen).exists(), 180)


def indexed_events() -> Counter:
    return Counter(LedgerEntry.objects.filter(action="document.indexed").values_list("target_id", flat=True))


@pytest.fixture
def collection(roles):
    return create_collection("Notes", "internal", [], False, None)


# -- Claims, without a worker process (the task functions called directly) ------------------------


@pytest.mark.django_db
def test_it_leaves_a_document_another_live_run_holds_alone_and_takes_it_over_once_its_lease_ran_out(collection, parts):
    document = upload(collection, "note.md", note(1).encode())
    Document.objects.filter(pk=document.pk).update(status="scanning", claimed_by="celery@other#1a2b3c4d 5e6f",
                                                   lease_until=timezone.now() + timedelta(minutes=30))

    ingest_document(document.pk)  # a second delivery of its task, say

    document.refresh_from_db()
    assert (document.status, document.claimed_by, indexed_events()) == ("scanning", "celery@other#1a2b3c4d 5e6f", {})
    assert claims.resume_stalled().released_documents == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        resumed = claims.resume_stalled()
    assert (resumed.released_documents, resumed.queued_documents) == (1, 1)
    assert Document.objects.get(pk=document.pk).status == "queued"

    ingest_document(document.pk)
    ingest_document(document.pk)  # the task the sweep queued, and the original one: indexed once

    document.refresh_from_db()
    assert document.status == "ready" and document.lease_until is None
    assert indexed_events() == {str(document.pk): 1}
    assert document.chunks.count() == document.chunk_count == parts.store.count([collection.store_key])


@pytest.mark.django_db
def test_it_takes_back_at_worker_start_the_work_of_dead_runs_only(collection, monkeypatch):
    later = timezone.now() + timedelta(minutes=20)
    monkeypatch.setattr(claims, "_node", "celery@here")
    dead_here = upload(collection, "a.md", note(1).encode())  # this worker's node name, an earlier life
    alive_elsewhere = upload(collection, "b.md", note(2).encode())  # another worker, lease holding
    queued = upload(collection, "c.md", note(3).encode())
    ready = upload(collection, "d.md", note(4).encode())
    Document.objects.filter(pk=dead_here.pk).update(status="embedding", claimed_by="celery@here#00000000 1",
                                                    lease_until=later)
    Document.objects.filter(pk=alive_elsewhere.pk).update(status="parsing", claimed_by="celery@there#11111111 2",
                                                          lease_until=later)
    Document.objects.filter(pk=ready.pk).update(status="ready")

    # Several workers on a store server: only this node's earlier runs (and expired leases) are dead.
    resumed = claims.resume_after_restart(store_is_ours=False, broker_loses_fetched=True)

    statuses = dict(Document.objects.values_list("filename", "status"))
    assert statuses == {"a.md": "queued", "b.md": "parsing", "c.md": "queued", "d.md": "ready"}
    assert (resumed.released_documents, resumed.queued_documents) == (1, 2)
    assert queued.pk in Document.objects.filter(status="queued").values_list("pk", flat=True)

    # The embedded store opens in one process only: the worker that opened it knows every other run is dead.
    resumed = claims.resume_after_restart(store_is_ours=True, broker_loses_fetched=True)

    assert Document.objects.get(pk=alive_elsewhere.pk).status == "queued"
    assert (resumed.released_documents, resumed.queued_documents) == (1, 3)

    # Redis keeps the tasks a dead worker fetched (and gives them back): only the work taken back is queued.
    Document.objects.filter(pk=dead_here.pk).update(status="scanning", claimed_by="celery@here#00000000 3")
    resumed = claims.resume_after_restart(store_is_ours=False, broker_loses_fetched=False)

    assert (resumed.released_documents, resumed.queued_documents) == (1, 1)


# -- A real worker, killed mid-batch -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_command_cleanly_and_the_next_run_finishes_what_it_left_half_done(tmp_path, roles):
    """No worker: the command indexes in its own process, a batch ahead (ingest/batching.py). Ctrl-C
    (SIGINT to the whole process group, as a terminal sends it) once the first batch is printed
    catches the next batch half done; running again indexes every file not printed, those included."""
    release_store()  # this test process may still hold the embedded store
    folder = tmp_path / "notes"
    folder.mkdir()
    files = 3 * BATCH_CHUNKS  # one chunk each: three batches, so the second is in progress at the first line
    for number in range(files):
        (folder / f"note-{number:03}.md").write_text(note(number))
    command = [sys.executable, "manage.py", "ingest", str(folder), "--recursive", "--collection", "Notes"]
    env = {**os.environ, "DATABASE_URL": database_url_for_children()}
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    first = child.stdout.readline()
    os.killpg(child.pid, signal.SIGINT)
    rest, stopped_stderr = child.communicate(timeout=300)
    left_half_done = set(Document.objects.filter(collection__name="Notes", status__in=WAITING)
                         .values_list("filename", flat=True))
    again = run_manage(*command[2:], env={"DATABASE_URL": database_url_for_children()}, timeout=600)

    assert child.returncode == 130
    assert stopped_stderr.rstrip().endswith(
        "Stopped. The documents whose JSON line was printed are indexed and kept. Running this command again indexes "
        "the rest of a folder, the documents this run left half done included; a worker, when it starts, finishes "
        "those too.")
    assert "Traceback" not in stopped_stderr
    assert left_half_done  # the interrupted batch, not only files never started
    printed_first = [json.loads(line) for line in (first + rest).splitlines()]
    assert 0 < len(printed_first) < files and all(line["status"] == "ready" for line in printed_first)
    assert again.returncode == 0, again.stderr
    lines = {json.loads(line)["document"]: json.loads(line) for line in again.stdout.splitlines()}
    assert len(lines) == files and all(line["status"] == "ready" for line in lines.values())
    unchanged = {name for name, line in lines.items() if line["action"] == "unchanged"}
    added = {name for name, line in lines.items() if line["action"] == "added"}
    assert {line["document"] for line in printed_first} <= unchanged  # what was printed was done
    assert left_half_done <= added and len(added) + len(unchanged) == files
    assert f"Added {len(added)}, replaced 0, unchanged {len(unchanged)}." in again.stderr
    notes = Document.objects.filter(collection__name="Notes")
    assert notes.count() == files and set(notes.values_list("status", flat=True)) == {"ready"}
    assert indexed_events() == Counter({str(d.pk): 1 for d in notes})  # each indexed once: nothing repeated


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_it_resumes_after_the_worker_is_killed_mid_batch_losing_nothing_and_repeating_nothing(collection):
    count = 210
    release_store()  # the worker process must be the store's single owner
    # On Redis, a task fetched but not acknowledged for 10 s is delivered again: duplicates on purpose.
    env = {"CELERY_VISIBILITY_TIMEOUT": "10"}
    first = start_worker(**env)
    try:
        wait_until_the_worker_consumes_tasks()
        for number in range(count):
            name = f"note-{number:04}.md"
            accept_upload(collection, name, ContentFile(note(number).encode(), name=name), None)
        wait_for(lambda: Document.objects.filter(status="ready").count() >= count // 3, 600)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        first_output = stop_worker(first)
    ready_at_kill = Document.objects.filter(status="ready").count()
    assert ready_at_kill < count, "the worker finished before it was killed: nothing was tested"

    second = start_worker(purge=False, **env)
    try:
        wait_for(lambda: not Document.objects.filter(status__in=WAITING).exists(), 900)
    finally:
        second_output = stop_worker(second)

    documents = list(Document.objects.filter(collection=collection))
    assert len(documents) == count
    assert Counter(document.status for document in documents) == {"ready": count}
    assert indexed_events() == Counter({str(document.pk): 1 for document in documents})
    rows = Counter(Chunk.objects.filter(document__collection=collection).values_list("document_id", flat=True))
    assert rows == Counter({document.pk: document.chunk_count for document in documents})
    store = worker_parts().store
    assert store.count([collection.store_key]) == sum(rows.values()) >= count
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):  # it lost the tasks the killed worker had read
        assert "queued again" in second_output
    assert "Traceback" not in first_output + second_output


# -- The command hands its files to the running worker ----------------------------------------------


@pytest.fixture
def share(tmp_path):
    root = tmp_path / "share"
    (root / "hr").mkdir(parents=True)
    for number in range(12):
        (root / ("hr" if number % 3 == 0 else "") / f"note-{number:02}.md").write_text(note(number))
    (root / "empty.txt").write_bytes(b"")
    (root / "copy.md").write_text(note(4))
    (root / ".hidden.md").write_text(note(99))
    return root


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_it_hands_a_folder_to_the_running_worker_and_prints_what_the_in_process_command_prints(share, tmp_path, roles):
    """The same folder into two collections: in this process (no worker), then handed to a worker."""
    here = StringIO()
    call_command("ingest", str(share), recursive=True, collection="Here", stdout=here, stderr=StringIO())
    release_store()
    worker = start_worker()
    try:
        wait_until_the_worker_consumes_tasks()
        env = {"DATABASE_URL": database_url_for_children()}
        handed = run_manage("ingest", str(share), "--recursive", "--collection", "Handed", env=env, timeout=600)
        again = run_manage("ingest", str(share), "--recursive", "--collection", "Handed", env=env, timeout=600)
        single = run_manage("ingest", str(share / "note-01.md"), "--collection", "Single", env=env, timeout=600)
        interrupted = interrupt_while_following(tmp_path / "more", env, worker)
        wait_for(lambda: Document.objects.filter(collection__name="More", status="ready").count() == MORE_FILES, 600)
    finally:
        output = stop_worker(worker)

    assert handed.returncode == 0, handed.stderr
    assert ("A running worker holds the vector store: the files are handed to it, and this command follows its "
            "progress (Ctrl-C stops following, not the indexing).\n") in handed.stderr
    assert handed.stdout.splitlines() == here.getvalue().splitlines()  # same lines, same keys, same order
    lines = [json.loads(line) for line in handed.stdout.splitlines()]
    assert Counter((line["status"], line["action"]) for line in lines) == {
        ("ready", "added"): 12, ("failed", "added"): 1, ("duplicate", None): 1}
    assert handed.stderr.rstrip().endswith("Added 12, replaced 0, unchanged 0.\n1 file failed: see their JSON lines.\n"
                                           "1 file identical to a document the collection already holds under another "
                                           "name: not added.\nSkipped: 1 hidden file or folder.")
    assert again.returncode == 0 and again.stderr.rstrip().endswith(
        "Nothing to do: 13 files unchanged.\n1 file identical to a document the collection already holds under "
        "another name: not added.\nSkipped: 1 hidden file or folder.")
    assert single.returncode == 0, single.stderr
    assert list(json.loads(single.stdout)) == ["file", "status", "chunks", "entities", "error", "sensitivity",
                                               "sensitivity_reason"]
    assert json.loads(single.stdout)["status"] == "ready"
    # Ctrl-C stops the following, not the work: the worker indexed all of them (waited for above).
    assert interrupted.returncode == 130, interrupted.stderr[-3000:]
    assert interrupted.stderr.rstrip().endswith(
        "Stopped following. The worker goes on with the files handed to it, and the collection page shows its "
        "progress; running this command again hands over the files not handed yet and follows the documents still "
        "in progress.")
    assert "Traceback" not in interrupted.stderr
    handed_documents = Document.objects.filter(collection__name="Handed")
    assert indexed_events() == Counter({str(d.pk): 1 for d in Document.objects.filter(status="ready")})
    assert handed_documents.filter(status="ready").count() == 12
    assert "Traceback" not in output


def interrupt_while_following(folder, env, worker) -> subprocess.CompletedProcess:
    """Hand MORE_FILES files over, and press Ctrl-C (SIGINT) once the first JSON line shows it is
    following, while files are surely still waiting. The worker is paused (SIGSTOP) while they are
    handed over, so that none is done before the command follows; then it takes at most
    WORKER_BATCH_DOCUMENTS per batch, and is paused again at the first line until the Ctrl-C has
    landed, then let go to finish them."""
    folder.mkdir()
    for number in range(MORE_FILES):
        (folder / f"more-{number:03}.md").write_text(note(1000 + number))
    worker.send_signal(signal.SIGSTOP)
    try:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "ingest", str(folder), "--recursive", "--collection", "More"],
            cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: Document.objects.filter(collection__name="More").count() == MORE_FILES, 300)
        worker.send_signal(signal.SIGCONT)
        first = child.stdout.readline()
        worker.send_signal(signal.SIGSTOP)
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        worker.send_signal(signal.SIGCONT)
    return subprocess.CompletedProcess(child.args, child.returncode, first + stdout, stderr)
