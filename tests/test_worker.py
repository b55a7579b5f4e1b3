"""A real Celery worker process consumes a real task (file-system broker and SQLite by default;
Redis and PostgreSQL when APPLIANCE_TEST_SERVICES=1)."""
import pytest

from appliance.health.models import WorkerHeartbeat
from appliance.health.tasks import heartbeat
from tests.conftest import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_it_consumes_a_task_in_a_real_worker():
    worker = start_worker()
    try:
        # The worker checks in when it is ready...
        ready = wait_for(lambda: WorkerHeartbeat.objects.filter(worker_name__startswith="test-worker@").first())
        # ...and only a consumed task can move its heartbeat on (no beat schedule runs here).
        heartbeat.delay()
        wait_for(lambda: WorkerHeartbeat.objects.filter(pk=ready.pk, last_seen__gt=ready.last_seen).exists())
    finally:
        stderr = stop_worker(worker)
    assert "Traceback" not in stderr


def test_it_refuses_to_start_a_worker_without_its_models():
    worker = start_worker(RETRIEVAL_EMBEDDING_MODEL_DIR="/nonexistent/minilm")

    worker.wait(timeout=120)
    stderr = stop_worker(worker)

    assert worker.returncode != 0
    assert (
        "appliance: retrieval.E001: embedding model (all-MiniLM-L6-v2) not found at /nonexistent/minilm Fix: set "
        "RETRIEVAL_EMBEDDING_MODEL_DIR to a sentence-transformers model directory"
    ) in stderr
    assert "Traceback" not in stderr
    assert not WorkerHeartbeat.objects.exists()
