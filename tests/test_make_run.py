"""`make run`'s run step from an empty data dir: the login page is served (DEBUG off, static files
too), each demo user signs in over real HTTP and lands on its role's home page, and the worker it
started checks in."""
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

PASSWORDS = {"analyst": "analyst-demo-password", "admin": "admin-demo-password", "officer": "officer-demo-password"}
HOMES = {"analyst": ("/analyst/", "Analyst home"), "admin": ("/administration/", "Administration"), "officer": ("/compliance/", "Compliance home")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def appliance(tmp_path):
    port = free_port()
    env = {
        # As a person runs it: no DEBUG (the test run's own environment sets DEBUG=1).
        **{name: value for name, value in os.environ.items() if name != "DEBUG"},
        "APPLIANCE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/data/appliance.sqlite3",
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "APPLIANCE_PORT": str(port),
        **{f"APPLIANCE_DEMO_PASSWORD_{name.upper()}": password for name, password in PASSWORDS.items()},
    }
    process = subprocess.Popen(
        ["bin/run-appliance"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: fetch(urllib.request.build_opener(), f"{base}/login/")[0] == 200)
        yield base, process
    finally:
        if process.poll() is None:  # a test may have stopped it already
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()


def wait_until(condition, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"not ready after {seconds} s")


def fetch(opener, url, data=None):
    try:
        with opener.open(url, data=urllib.parse.urlencode(data).encode() if data else None, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def sign_in(base, username):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    _, _, page = fetch(opener, f"{base}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    credentials = {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORDS[username]}
    return fetch(opener, f"{base}/login/", credentials)


def test_it_serves_each_demo_user_its_home_page(appliance):
    base, _ = appliance

    for username, (path, heading) in HOMES.items():
        status, url, page = sign_in(base, username)
        assert (status, url) == (200, f"{base}{path}")
        assert f"<h1>{heading}</h1>" in page

    # DEBUG is off, and the stylesheet (collected, hashed) is served all the same.
    _, _, login_page = fetch(urllib.request.build_opener(), f"{base}/login/")
    [stylesheet] = re.findall(r'<link rel="stylesheet" href="(/static/css/app\.[0-9a-f]{12}\.css)">', login_page)
    assert fetch(urllib.request.build_opener(), f"{base}{stylesheet}")[0] == 200

    # The worker started alongside the web server checks in.
    wait_until(lambda: json.loads(fetch(urllib.request.build_opener(), f"{base}/healthz")[2])["worker"] == "up", 120)


def processes_of(data_dir) -> list[int]:
    """The processes started for DATA_DIR: each inherits APPLIANCE_DATA_DIR from the script."""
    marker = f"APPLIANCE_DATA_DIR={data_dir}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if marker in handle.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:  # ended meanwhile, or not ours to read
                pass
    return found


def test_a_sigterm_to_the_script_alone_stops_everything_it_started(appliance, tmp_path):
    """As a service manager or `kill PID` stops it: the signal reaches the script only, not its
    process group. The web server, the worker and the worker's beat all end, and the port is free."""
    base, process = appliance
    wait_until(lambda: json.loads(fetch(urllib.request.build_opener(), f"{base}/healthz")[2])["worker"] == "up", 120)
    assert len(processes_of(tmp_path / "data")) >= 3  # the script, the web server, the worker

    os.kill(process.pid, signal.SIGTERM)

    process.communicate(timeout=90)
    assert process.returncode == 0
    wait_until(lambda: not processes_of(tmp_path / "data"), 60)
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))
