"""The production stack file is valid (no Docker engine here: the file is validated, not run)."""
import os
import subprocess

import pytest

from tests.conftest import REPO, require_tool

REQUIRED = {"SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "rag.example.org", "POSTGRES_PASSWORD": "pw", "QDRANT_API_KEY": "key",
            "AUDIT_ENCRYPTION_KEY": "A" * 43 + "=", "AUDIT_SIGNING_KEY": "B" * 43 + "=", "AUDIT_MAC_KEY": "C" * 43 + "="}


def compose(*args, env):
    # A clean environment: only what an operator's .env would provide.
    return subprocess.run(
        [require_tool("docker-compose"), *args], cwd=REPO, env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=60,
    )


def test_it_is_a_valid_compose_file():
    result = compose("config", "-q", env=REQUIRED)

    assert result.returncode == 0, result.stderr


def test_it_runs_every_service_of_the_production_stack():
    services = compose("config", "--services", env=REQUIRED).stdout.split()

    assert sorted(services) == ["beat", "migrate", "postgres", "qdrant", "redis", "web", "worker"]


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_it_refuses_to_start_without_a_mandatory_setting(missing):
    env = {name: value for name, value in REQUIRED.items() if name != missing}

    result = compose("config", "-q", env=env)

    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr
