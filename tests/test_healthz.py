from datetime import timedelta

import pytest
from django.utils import timezone

from appliance.health.heartbeat import record_heartbeat
from appliance.health.models import WorkerHeartbeat

pytestmark = pytest.mark.services


def test_it_reports_a_silent_worker_without_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "up", "worker": "silent", "worker_last_seen": None, "ledger": "unverified",
                               "ledger_verified_at": None, "ledger_entries_verified": 0}


def test_it_reports_a_worker_that_checked_in_recently(client, db):
    record_heartbeat("worker@host")

    assert client.get("/healthz").json()["worker"] == "up"


def test_it_reports_a_worker_silent_after_three_missed_heartbeats(client, db):
    WorkerHeartbeat.objects.create(worker_name="worker@host", last_seen=timezone.now() - timedelta(minutes=4))

    assert client.get("/healthz").json()["worker"] == "silent"
