"""Who works on a document or an archive, until when, and taking back the work of a worker that died.

A run claims its document with a conditional UPDATE that writes a claim ("<process> <random>")
and a lease (INGEST_LEASE_MINUTES), and each later step checks that the claim is still its own.
A document can be claimed when it is queued, or when it is in progress under a lease that ran out.
So a second delivery of the same task (Redis redelivers an unacknowledged task after its
visibility timeout, and the sweep below queues again what might have been lost) finds the
document taken and does nothing, while the work of a dead worker is taken over.

A worker killed mid-batch loses the tasks it had fetched (the file-system broker deletes a
message when it is read) or leaves them unacknowledged (Redis gives them back only after the
visibility timeout), and leaves its document PARSING..EMBEDDING. At start, the worker calls
resume_after_restart: it puts the work of dead runs back to QUEUED and queues it again, and with
the file-system broker every queued document and archive too; a duplicate task finds its
document taken or done and returns.
Which runs are dead:
- With the embedded store (Qdrant Edge), every run not of this process: the store opens in one
  process only, so the worker that just opened it is the only one that can index.
- With a store server (production, several workers), the runs of earlier processes under this
  worker's node name (Celery node names are unique in a cluster) and those whose lease ran out.
  A worker that dies and does not come back under its name is covered by the periodic sweep
  (resume_stalled, beat) once its lease runs out.
"""
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ingest.models import Archive, Document

DOCUMENT_WORKING = (Document.Status.PARSING, Document.Status.SCANNING, Document.Status.EMBEDDING)
ARCHIVE_WORKING = (Archive.Status.UNPACKING,)

# This process: "<node name>#<boot>" in a worker (set at its start), "<host>:<pid>#<boot>" in a
# command. The boot part tells a restarted worker's runs from those of its earlier life.
_node = f"{socket.gethostname()}:{os.getpid()}"
_boot = uuid.uuid4().hex[:8]


def name_this_process(node: str) -> None:
    global _node
    _node = node


def this_process() -> str:
    return f"{_node}#{_boot}"


def new_claim() -> str:
    return f"{this_process()} {uuid.uuid4().hex[:8]}"


def lease_end():
    return timezone.now() + timedelta(minutes=settings.INGEST_LEASE_MINUTES)


def claimable(queued: str, working: tuple[str, ...]) -> Q:
    """Rows a run may claim: queued, or in progress under a lease that ran out (or none: a row
    from before leases)."""
    expired = Q(lease_until__lt=timezone.now()) | Q(lease_until__isnull=True)
    return Q(status=queued) | (Q(status__in=working) & expired)


@dataclass(frozen=True)
class Resumed:
    released_documents: int  # taken back from dead runs
    queued_documents: int  # tasks sent (released ones included)
    released_archives: int
    queued_archives: int

    def describe(self) -> str:
        return (f"{self.released_documents} document(s) and {self.released_archives} archive(s) left unfinished "
                f"by a stopped worker taken back; {self.queued_documents} document(s) and "
                f"{self.queued_archives} archive(s) queued again.")


def resume_after_restart(*, store_is_ours: bool, broker_loses_fetched: bool) -> Resumed:
    """At worker start: take back the work of dead runs (see the module docstring) and queue them
    again. With BROKER_LOSES_FETCHED (the file-system broker deletes a message when a worker reads
    it), every queued document and archive is queued again too: the dead worker may have fetched
    its task. Redis gives such a task back itself, after the visibility timeout."""
    if store_is_ours:
        dead = ~Q(claimed_by__startswith=this_process())
    else:
        expired = Q(lease_until__lt=timezone.now()) | Q(lease_until__isnull=True)
        earlier_life = Q(claimed_by__startswith=f"{_node}#") & ~Q(claimed_by__startswith=this_process())
        dead = earlier_life | expired
    return requeue(dead, queue_all_waiting=broker_loses_fetched)


def take_back_for_this_command(collection) -> int:
    """For a command that opened the embedded store (no worker can be indexing: the store opens in
    one process only): the documents of COLLECTION that dead runs left in progress, a command
    stopped with Ctrl-C included, go back to QUEUED, so that this run indexes them. With a store
    server, a live worker may hold them: its lease decides (resume_stalled). Returns how many."""
    if settings.QDRANT_URL:
        return 0
    dead = Q(collection=collection, status__in=DOCUMENT_WORKING) & ~Q(claimed_by__startswith=this_process())
    return len(release(Document, dead, status=Document.Status.QUEUED, progress=0))


def resume_stalled() -> Resumed:
    """Periodically: take back runs whose lease ran out (their worker died and did not come back
    under its name) and queue them again."""
    return requeue(Q(lease_until__lt=timezone.now()), queue_all_waiting=False)


def requeue(dead: Q, *, queue_all_waiting: bool) -> Resumed:
    from ingest.tasks import ingest_document, unpack_archive

    released_documents = release(Document, Q(status__in=DOCUMENT_WORKING) & dead,
                                 status=Document.Status.QUEUED, progress=0)
    released_archives = release(Archive, Q(status__in=ARCHIVE_WORKING) & dead, status=Archive.Status.QUEUED)
    documents, archives = released_documents, released_archives
    if queue_all_waiting:
        documents = list(Document.objects.filter(status=Document.Status.QUEUED).order_by("pk").values_list("pk", flat=True))
        archives = list(Archive.objects.filter(status=Archive.Status.QUEUED).order_by("pk").values_list("pk", flat=True))
    # Archives first: their members join the queue behind the documents already in it.
    for archive_id in archives:
        unpack_archive.delay(archive_id)
    for document_id in documents:
        ingest_document.delay(document_id)
    return Resumed(len(released_documents), len(documents), len(released_archives), len(archives))


def release(model, dead: Q, **queued) -> list[int]:
    """Put the rows matching DEAD back in the queue; returns their ids. The UPDATE repeats the
    condition, so a row claimed again in between (a fresh lease) is left alone; queueing its id
    anyway is harmless."""
    ids = list(model.objects.filter(dead).order_by("pk").values_list("pk", flat=True))
    if ids:
        model.objects.filter(dead, pk__in=ids).update(claimed_by="", lease_until=None, **queued)
    return ids


def report(resumed: Resumed) -> None:
    """One line on the worker's stderr when there was something to resume (counts only)."""
    if resumed.released_documents or resumed.released_archives or resumed.queued_documents or resumed.queued_archives:
        print(f"appliance: {resumed.describe()}", file=sys.stderr)
