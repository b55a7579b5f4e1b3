"""Named people, one per role (as in healthchecks' hc/test.py), and the tools tests share."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from appliance.accounts.demo import ANALYSTS_TEAM
from appliance.accounts.roles import Role, install_roles

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct horse battery staple"


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


def run_manage(*args: str, env: dict[str, str] | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run manage.py in a child process with this process's environment plus ENV."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
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
