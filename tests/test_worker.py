"""A real Celery worker process consumes a real task (file-system broker and SQLite by default;
Redis and PostgreSQL when APPLIANCE_TEST_SERVICES=1)."""
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from appliance.health.models import WorkerHeartbeat
from appliance.health.tasks import heartbeat
from tests.conftest import REPO

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_database_url() -> str:
    """DATABASE_URL of the database this test uses, for the worker process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False


def start_worker(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "appliance", "worker", "--pool", "threads", "--concurrency", "1",
         "--hostname", "test-worker@%h", "--loglevel", "WARNING"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": test_database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds} s")


def stop(worker: subprocess.Popen) -> str:
    worker.terminate()
    _, stderr = worker.communicate(timeout=60)
    return stderr


def test_it_consumes_a_task_in_a_real_worker():
    worker = start_worker()
    try:
        # The worker checks in when it is ready...
        ready = wait_for(lambda: WorkerHeartbeat.objects.filter(worker_name__startswith="test-worker@").first())
        # ...and only a consumed task can move its heartbeat on (no beat schedule runs here).
        heartbeat.delay()
        wait_for(lambda: WorkerHeartbeat.objects.filter(pk=ready.pk, last_seen__gt=ready.last_seen).exists())
    finally:
        stderr = stop(worker)
    assert "Traceback" not in stderr


def test_it_refuses_to_start_a_worker_without_its_models():
    worker = start_worker(RETRIEVAL_EMBEDDING_MODEL_DIR="/nonexistent/minilm")

    _, stderr = worker.communicate(timeout=120)

    assert worker.returncode != 0
    assert (
        "appliance: retrieval.E001: embedding model (all-MiniLM-L6-v2) not found at /nonexistent/minilm Fix: set "
        "RETRIEVAL_EMBEDDING_MODEL_DIR to a sentence-transformers model directory"
    ) in stderr
    assert "Traceback" not in stderr
    assert not WorkerHeartbeat.objects.exists()
