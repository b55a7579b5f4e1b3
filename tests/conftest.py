"""Named people, one per role (as in healthchecks' hc/test.py), and the tools tests share."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection

from appliance.accounts.demo import ANALYSTS_TEAM
from appliance.accounts.roles import Role, install_roles
from tests import append_only

append_only.install()

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def empty_cache():
    """The API's rate-limit counts live in the cache, a directory shared by the whole test run, and
    user ids repeat from test to test: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


def make_person(username: str, *groups: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def roles(db):
    install_roles()


@pytest.fixture
def analyst(roles):
    return make_person("alice", Role.ANALYST, ANALYSTS_TEAM)


@pytest.fixture
def admin(roles):
    return make_person("bob", Role.ADMIN)


@pytest.fixture
def officer(roles):
    return make_person("charlie", Role.COMPLIANCE)


@pytest.fixture
def outsider(roles):
    """Signed in, but holds no role."""
    return make_person("dave")


def run_manage(
    *args: str, env: dict[str, str] | None = None, timeout: int = 120, stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """Run manage.py in a child process with this process's environment plus ENV, feeding it STDIN."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def require_tool(path: str) -> str:
    """Browser and compose tests need Debian tools that `make test` installs; in CI their absence fails."""
    found = shutil.which(path)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{path} is not installed (make test installs it with apt-get)")
        pytest.skip(f"{path} is not installed: apt-get install chromium chromium-driver docker-compose")
    return found


@pytest.fixture
def parts():
    """The worker's parts in this process: the test data dir's Qdrant Edge store, MiniLM and the
    PII scanner (loaded once per test session)."""
    from appliance.runtime import worker_parts

    return worker_parts()


def upload(collection, filename: str, data: bytes, actor=None, **kwargs):
    """accept_upload with in-memory content, without queueing (tests run the task function)."""
    from django.core.files.base import ContentFile

    from ingest.uploads import accept_upload

    return accept_upload(collection, filename, ContentFile(data, name=filename), actor, queue=False, **kwargs)


def database_url_for_children() -> str:
    """DATABASE_URL of the database this test uses, for processes the test starts."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*, purge: bool = True, **env) -> subprocess.Popen:
    """A real Celery worker process on this test's database, broker and data dir. Its output goes
    to a file (a pipe nobody reads could fill up and stall it); stop_worker() returns it. Without
    PURGE, the worker finds the tasks left in the queue (a restart)."""
    log = open(Path(settings.DATA_DIR) / f"worker-{time.monotonic_ns()}.log", "w+")
    if purge:
        purge_queue()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "appliance", "worker", "--pool", "threads", "--concurrency", "1",
         "--hostname", "test-worker@%h", "--loglevel", "WARNING"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url_for_children(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker.log = log
    return worker


def purge_queue() -> None:
    """Drop the tasks earlier tests queued on the shared broker: a test with real commits (say, one
    that asks through the chat and reads the database file) queues its exchange on commit, and a
    worker started later would run it against rows that no longer exist."""
    from appliance.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)


def wait_for(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds} s")


def stop_worker(worker: subprocess.Popen) -> str:
    """Stop the worker (if still running) and return everything it printed."""
    if worker.poll() is None:
        worker.terminate()
    worker.wait(timeout=60)
    worker.log.seek(0)
    output = worker.log.read()
    worker.log.close()
    return output




@pytest.fixture
def two_team_corpus(analyst, tmp_path, settings):
    """Collection "Handbook" granted to the analysts' team and "HR cases" to team "hr", one short
    document each, indexed through the real pipeline; shipped models registered; short answers."""
    from io import StringIO

    from django.core.management import call_command

    from appliance.routing.registry import register_shipped_models

    settings.ANSWERING_MAX_TOKENS = 32
    register_shipped_models()
    Group.objects.get_or_create(name="hr")
    for name, team, text in [("Handbook", "analysts", "# Hours\n\nThe office opens at 8:00 on weekdays.\n"),
                             ("HR cases", "hr", "# Case 17\n\nThe hearing is on 4 March.\n")]:
        path = tmp_path / f"{name}.md"
        path.write_text(text)
        call_command("ingest", str(path), collection=name, classification="internal", grant=[team], stdout=StringIO())
