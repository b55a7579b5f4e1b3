"""How far the worker is with a collection's documents, in one line for the admin's page.

Counted in the database, so the line costs the same at forty documents as at forty thousand.
"""
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, QuerySet, Sum

from ingest.models import Document

Status = Document.Status
INDEXING = (Status.QUEUED, Status.PARSING, Status.SCANNING, Status.EMBEDDING)
# A pause of the worker shorter than this does not end a batch: the uploader may be slower than
# the worker (a big upload stores its files one by one, each queued as soon as it is stored).
BATCH_SLACK = timedelta(minutes=1)


def describe_progress(documents: QuerySet) -> str | None:
    """How far the worker is with the DOCUMENTS being indexed, in one line ("12 of 40 documents
    ready · 31 chunks/s · about 2 min left"), or None when none is.

    The batch is what is waiting, plus what was uploaded since the batch began (an upload of 40
    files is one batch however far it got; see `find_batch_start`). The rate is over the batch so
    far, from its first upload to its last document ready; until one is ready, it is unknown. A
    failed document has no timestamp of its end, only of its upload: it counts in the batch when it
    was uploaded with it (a file refused at upload fails before the good files after it are
    recorded, hence the slack), and not in the rate.
    """
    waiting = documents.filter(status__in=INDEXING).aggregate(count=Count("pk"), oldest=Min("uploaded_at"))
    if not waiting["count"]:
        return None
    start = find_batch_start(documents, waiting["oldest"])
    ready = documents.filter(status=Status.READY, indexed_at__isnull=False, uploaded_at__gte=start).aggregate(
        count=Count("pk"), chunks=Sum("chunk_count"), last=Max("indexed_at"))
    failed = documents.filter(status=Status.FAILED, uploaded_at__gte=start - BATCH_SLACK).count()
    words = [f"{ready['count']:,} of {waiting['count'] + ready['count'] + failed:,} documents ready"]
    if failed:
        words.append(f"{failed:,} failed")
    elapsed = (ready["last"] - start).total_seconds() if ready["count"] else 0
    if elapsed <= 0:
        return " · ".join([*words, "estimating…"])
    rate = ready["chunks"] / elapsed
    words.append(f"{rate:.0f} chunks/s" if rate >= 10 else f"{rate:.1f} chunks/s")
    return " · ".join([*words, time_left_in_words(waiting["count"] * elapsed / ready["count"])])


def find_batch_start(documents: QuerySet, oldest_waiting: datetime) -> datetime:
    """When the batch that OLDEST_WAITING belongs to was first uploaded.

    The worker starts on a file as soon as it is stored, while the rest of the upload (or of the
    folder, or of the archive being unpacked) is still arriving: the first files of a batch may
    be ready before the last are uploaded. So the batch reaches back through every document that
    became ready while the batch was under way, and through the uploads of those, until the worker
    had been idle for longer than BATCH_SLACK.
    """
    start = oldest_waiting
    finished = (documents.filter(status=Status.READY, indexed_at__isnull=False)
                .order_by("-indexed_at").values_list("uploaded_at", "indexed_at"))
    for uploaded_at, indexed_at in finished.iterator(chunk_size=500):
        if indexed_at < start - BATCH_SLACK:
            break
        start = min(start, uploaded_at)
    return start


def time_left_in_words(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute left"
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"
