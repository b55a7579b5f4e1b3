"""Started with nothing configured, the appliance serves with DEBUG off and secrets it generated
once and keeps in its data dir; DEBUG is an opt-in that is refused beyond loopback."""
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SECRETS = ("secret_key", "audit_encryption_key", "audit_signing_key")


def nothing_configured(data_dir: Path, **env) -> dict[str, str]:
    """This process's environment with no DEBUG and no secret set, and a fresh data dir."""
    configured = {name: value for name, value in os.environ.items()
                  if name != "DEBUG" and not name.startswith(("SECRET_KEY", "AUDIT_"))}
    return {**configured, "APPLIANCE_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir}/appliance.sqlite3",
            **env}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """manage.py with exactly ENV (conftest's run_manage would add this process's DEBUG=1)."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn as bin/run-appliance starts it on loopback (plain HTTP), after collectstatic."""
    data_dir = tmp_path_factory.mktemp("served") / "data"
    env = nothing_configured(data_dir, SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0")
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=REPO,
                               env=env, capture_output=True, text=True, timeout=120)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "appliance.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request(f"{base}/login/")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
        yield base, data_dir
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_it_shows_no_debug_page_for_a_broken_sign_in_request(served):
    base, data_dir = served
    _, headers, _ = request(f"{base}/login/")
    csrf_cookie = headers["Set-Cookie"].split(";")[0]
    # More fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS): TooManyFieldsSent, a
    # SuspiciousOperation, which DEBUG=1 answers with the debug page and all the settings.
    body = "".join(f'--XX\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nx\r\n' for n in range(1001)) + "--XX--\r\n"

    status, _, page = request(f"{base}/login/", data=body.encode(),
                              headers={"Content-Type": "multipart/form-data; boundary=XX", "Cookie": csrf_cookie})

    assert status == 400
    assert "<h1>Bad Request (400)</h1>" in page and len(page) < 300  # Django's plain 400 page
    for leak in ("Traceback", "TooManyFieldsSent", "SECRET_KEY", "DATABASES", str(data_dir), str(REPO)):
        assert leak not in page


def test_it_serves_its_static_files_without_debug(served):
    base, _ = served
    _, _, page = request(f"{base}/login/")
    [stylesheet] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)

    status, headers, css = request(f"{base}{stylesheet}")

    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", stylesheet)  # hashed: served with a long max-age
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=\"utf-8\"")
    assert css.startswith(":root") or css


def test_it_generates_its_secrets_once_and_keeps_them_to_itself(tmp_path):
    data_dir = tmp_path / "data"
    show = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY, settings.AUDIT_SIGNING_KEY.hex())"

    first = manage("shell", "-v", "0", "-c", show, env=nothing_configured(data_dir))
    again = manage("shell", "-v", "0", "-c", show, env=nothing_configured(data_dir))

    assert first.returncode == 0, first.stderr
    debug, secret_key, signing_key = first.stdout.split()
    assert debug == "False"
    assert first.stdout == again.stdout
    assert (data_dir / "secret_key").read_text() == secret_key and len(secret_key) >= 50
    for name in SECRETS:
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def test_it_prefers_secrets_given_in_the_environment(tmp_path):
    data_dir = tmp_path / "data"

    result = manage("shell", "-v", "0", "-c", "from django.conf import settings; print(settings.SECRET_KEY)",
                        env=nothing_configured(data_dir, SECRET_KEY="s" * 50))

    assert result.stdout.strip() == "s" * 50
    assert not (data_dir / "secret_key").exists()


REFUSED = ("debug pages show settings and paths to anyone who can reach the server; unset DEBUG, or serve on "
           "127.0.0.1 only")


@pytest.mark.parametrize(("env", "args", "line"), [
    ({"APPLIANCE_HOST": "0.0.0.0"}, ["check"],
     f"appliance: configuration error: DEBUG=1 is refused with APPLIANCE_HOST including 0.0.0.0: {REFUSED}"),
    ({"ALLOWED_HOSTS": "localhost,rag.example.org"}, ["check"],
     f"appliance: configuration error: DEBUG=1 is refused with ALLOWED_HOSTS including rag.example.org: {REFUSED}"),
    ({}, ["runserver", "0.0.0.0:8000"],
     f"appliance: configuration error: DEBUG=1 is refused with the server bound to 0.0.0.0:8000: {REFUSED}"),
    ({}, ["runserver", "--noreload", "[::]:8000"],
     f"appliance: configuration error: DEBUG=1 is refused with the server bound to [::]:8000: {REFUSED}"),
], ids=["run-appliance-host", "allowed-hosts", "runserver", "runserver-ipv6"])
def test_it_refuses_debug_beyond_loopback(tmp_path, env, args, line):
    result = manage(*args, env=nothing_configured(tmp_path / "data", DEBUG="1", **env))

    assert (result.returncode, result.stderr.strip()) == (2, line)


def test_it_refuses_a_debug_gunicorn_bound_beyond_loopback(tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "appliance.wsgi", "--bind", "0.0.0.0:0", "--workers", "1"],
        cwd=REPO, env=nothing_configured(tmp_path / "data", DEBUG="1"), capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    assert f"appliance: configuration error: DEBUG=1 is refused with the server bound to 0.0.0.0:0: {REFUSED}" in result.stderr


def test_debug_stays_available_on_loopback(tmp_path):
    result = manage("shell", "-v", "0", "-c", "from django.conf import settings; print(settings.DEBUG)",
                        env=nothing_configured(tmp_path / "data", DEBUG="1"))

    assert result.stdout.strip() == "True"
