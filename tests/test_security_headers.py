"""Every page carries the Content-Security-Policy; pages that show decrypted ledger content,
questions, answers or passages tell browsers and proxies to keep no copy."""
import re
from pathlib import Path

import pytest

from appliance.accounts.tokens import issue_api_token
from appliance.answering.conversations import ask_in_conversation
from ingest.models import Chunk
from tests.test_ledger_views import record_trace

pytestmark = pytest.mark.django_db

POLICY = ("default-src 'self'; connect-src 'self'; font-src 'self'; img-src 'self'; object-src 'none'; "
          "base-uri 'none'; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'")


def directives(header: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


@pytest.mark.parametrize(("person", "url"), [
    (None, "/login/"),
    ("analyst", "/analyst/"),
    ("analyst", "/analyst/ask/"),
    ("admin", "/administration/"),
    ("admin", "/administration/collections/"),
    ("officer", "/compliance/"),
    ("officer", "/compliance/ledger/"),
    (None, "/healthz"),
])
def test_it_sends_the_content_security_policy_on_every_page(client, request, person, url):
    if person:
        client.force_login(request.getfixturevalue(person))

    response = client.get(url)

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == directives(POLICY)


def test_the_policy_allows_no_inline_script_or_style(client):
    policy = directives(client.get("/login/")["Content-Security-Policy"])

    assert (policy["script-src"], policy["style-src"]) == ("'self'", "'self'")


def assert_kept_nowhere(response):
    assert response.status_code == 200, response.content[:200]
    assert "no-store" in response["Cache-Control"].split(", ")
    assert "private" in response["Cache-Control"].split(", ")


def test_the_chat_its_answers_and_its_passages_are_not_kept(client, analyst, two_team_corpus):
    client.force_login(analyst)
    exchange = ask_in_conversation(analyst, "When does the office open?", ["Handbook"])
    chunk = Chunk.objects.get(document__collection__name="Handbook")

    for url in ["/analyst/ask/", f"/analyst/conversations/{exchange.conversation_id}/",
                f"/analyst/exchanges/{exchange.pk}/", f"/analyst/passages/{chunk.chunk_id}/"]:
        assert_kept_nowhere(client.get(url))


def test_the_api_answers_are_not_kept(client, analyst, two_team_corpus):
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)}"}
    exchange = ask_in_conversation(analyst, "When does the office open?", ["Handbook"])

    for url in ["/api/v1/history", f"/api/v1/questions/{exchange.pk}", "/api/v1/collections"]:
        assert_kept_nowhere(client.get(url, **headers))
    assert "no-store" in client.get("/api/v1/history")["Cache-Control"]  # refused, and not kept either


def test_the_ledger_and_its_evidence_are_not_kept(client, officer, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    client.force_login(officer)
    entry = record_trace("trace-1", officer)

    for url in ["/compliance/ledger/", f"/compliance/ledger/entries/{entry.seq}/",
                f"/compliance/ledger/entries/{entry.seq}/evidence.json", "/compliance/ledger/export.jsonl"]:
        assert_kept_nowhere(client.get(url))


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_no_template_needs_an_inline_script_or_style():
    """The policy blocks inline code: scripts and styles belong in static/ (test_browser_chat.py
    drives the chat page under the policy)."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    templates = Path(__file__).resolve().parent.parent / "templates"

    found = {str(path.relative_to(templates)): inline.findall(path.read_text()) for path in templates.rglob("*.html")}

    assert {name: hits for name, hits in found.items() if hits} == {}
