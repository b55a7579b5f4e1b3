"""The public key page: an officer finds the key that signs the ledger's checkpoints, its
fingerprint, a download, and the command that checks an evidence bundle without the appliance."""
import hashlib
import re
import subprocess
import sys

import pytest

from appliance.audit.checkpoints import public_key_bytes
from appliance.audit.models import LedgerEntry
from tests.test_ledger_views import REPO, record_trace

pytestmark = [pytest.mark.django_db, pytest.mark.services]

URLS = ["/compliance/key/", "/compliance/key/audit-public-key.txt"]


@pytest.fixture(autouse=True)
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"


def test_it_shows_the_key_its_fingerprint_and_how_to_verify_a_bundle(client, officer):
    client.force_login(officer)
    key = public_key_bytes()

    page = client.get("/compliance/key/").content.decode()

    assert "<h1>The ledger's public key</h1>" in page
    assert f'<code class="hash" id="public-key">{key.hex()}</code>' in page
    assert f'<code class="hash" id="fingerprint">{hashlib.sha256(key).hexdigest()}</code>' in page
    assert f"<code>{hashlib.sha256(key).hexdigest()[:16]}</code>" in page  # the key id every checkpoint names
    assert '<a class="button-like" href="/compliance/key/audit-public-key.txt" id="download-key">' in page
    assert ('<pre id="verify-command">python3 tools/verify_evidence.py evidence-entry-N.json '
            "--public-key audit-public-key.txt</pre>") in page
    assert '<pre id="fingerprint-command">xxd -r -p audit-public-key.txt | sha256sum</pre>' in page
    assert not LedgerEntry.objects.exists()  # the key is public: showing it reads no entry


def test_the_downloaded_key_verifies_an_evidence_bundle_offline(client, officer, analyst, tmp_path):
    record_trace("t-internal", analyst)
    client.force_login(officer)

    download = client.get("/compliance/key/audit-public-key.txt")
    bundle = client.get("/compliance/ledger/entries/1/evidence.json")

    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="audit-public-key.txt"'
    assert download.content.decode() == public_key_bytes().hex() + "\n"
    (tmp_path / "audit-public-key.txt").write_bytes(download.content)
    (tmp_path / "evidence-entry-1.json").write_bytes(bundle.content)
    page = client.get("/compliance/key/").content.decode()
    command = re.search(r'<pre id="verify-command">(.*?)</pre>', page).group(1).replace("evidence-entry-N", "evidence-entry-1")
    program, script, *arguments = command.split()
    verified = subprocess.run([sys.executable, str(REPO / script), *arguments], cwd=tmp_path, capture_output=True,
                              text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert program == "python3"
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Holds: entry #1 (answer.answered, ")


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
def test_only_compliance_officers_may_open_the_key_page(client, request, person):
    client.force_login(request.getfixturevalue(person))

    assert [client.get(url).status_code for url in URLS] == [403, 403]


def test_it_sends_anonymous_visitors_to_sign_in(client, roles):
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_key_pages_only_read(client, officer, method):
    client.force_login(officer)

    assert [getattr(client, method)(url).status_code for url in URLS] == [405, 405]


def test_the_compliance_home_links_to_the_key_page(client, officer):
    client.force_login(officer)

    assert '<p><a href="/compliance/key/">Public key</a>: the key that signs' in client.get("/compliance/").content.decode()
