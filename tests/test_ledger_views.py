"""The compliance console: officers filter, read, review, export and verify the audit ledger;
every look is itself an entry; nobody else gets in, and nothing changes or removes an entry."""
import csv
import html
import io
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.utils import timezone

from appliance.accounts.roles import Role
from appliance.audit.checkpoints import public_key_bytes
from appliance.audit.models import ChainCheck, LedgerEntry
from appliance.audit.reading import unsealed
from appliance.audit.recording import record_event
from appliance.audit.retention import destroy_expired_payloads
from tests.append_only import triggers_set_aside
from tests.conftest import make_person

pytestmark = [pytest.mark.django_db, pytest.mark.services]

REPO = Path(__file__).resolve().parent.parent
# The clock every test here runs on (ticking, so entries keep distinct times). With the real one,
# TODAY was read at collection, and a run that crossed midnight UTC dated its entries and export
# file names a day later than the filters and the assertions.
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=True):
        yield


@pytest.fixture(autouse=True)
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


@pytest.fixture
def colleague(roles):
    """A second compliance officer, to escalate to."""
    return make_person("erin", Role.COMPLIANCE)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def record_trace(trace_id: str, actor, *, outcome="answered", shown="answered", collection="Handbook", perimeter="internal",
                 route="local-specialist", model="smollm2-135m", entities=("PERSON",),
                 question="When does the office open?", answer="At 8:00 on weekdays [1].", findings=None,
                 passage="The office opens at 8:00 on weekdays.", quotes=None, details_outcome=None) -> LedgerEntry:
    """An answer trace with the shapes record_answer_trace writes (no model is run). QUOTES: the
    evidence's quotes ({"n", "start", "end", "score"}), offsets in PASSAGE. DETAILS_OUTCOME: the
    details' "outcome", which newer traces carry (older ones only label it)."""
    if findings is None:
        findings = [{"detector": "pii", "type": entity, **span_of(question, entity), "score": 0.85, "action": "sensitive",
                     "reading": "normalised"} for entity in entities]
    routed = outcome != "blocked"
    details = {
        "collections": [collection],
        "verdict": {"action": "block" if not routed else "sensitive", "findings": findings, "policy_version": 1},
        "route": {"name": route, "model": model, "perimeter": perimeter, "sensitivity": "internal",
                  "reason": "The collection is internal.",
                  "sources": {"question": "internal", "collections": "internal"}} if routed else None,
        "model": {"name": model, "perimeter": perimeter, "sha256": "ab" * 32, "quantization": "Q4_1"}
        if routed else None,
        "passages": [{"n": 1, "chunk_id": "c" * 64, "document": "Hours.md", "document_id": 3, "version": 1,
                      "page": None, "section": "Hours", "score": 0.71, "sensitivity": "internal"}] if routed else [],
        "citations": [1] if routed else [],
        "evidence": {"quotes": quotes, "answers_question": True, "confidence": 0.8, "features": {},
                     "withheld_sentences": 0} if quotes else None,
        "output_checks": [{"name": "citations", "passed": True, "detail": ""}] if routed else [],
        "error": "",
        "timings": {"screen_ms": 12.5, "generate_ms": 800.0},
    }
    sealed = {
        "question": question,
        "prompt": [{"role": "system", "content": "You answer questions."}, {"role": "user", "content": question}]
        if routed else None,
        "raw_answer": "At 8:00 on weekdays [1]. <|im_end|>" if routed else "",
        "answer": answer,
        "passage_texts": {"1": passage} if routed else {},
    }
    if details_outcome is not None:
        details["outcome"] = details_outcome
    labels = {"outcome": [shown], "collection": [collection], "entity": list(entities), "route": [route] if routed else [],
              "perimeter": [perimeter] if routed else [], "model": [model] if routed else []}
    return record_event(f"answer.{outcome}", actor, ("trace", trace_id), sealed=sealed, labels=labels, **details)


# Where a finding of each type sits in the questions below; a question without such a value gets
# an empty span at its start (the filters read the finding's type only).
VALUES = {"EMAIL_ADDRESS": re.compile(r"\S+@\S+\.com"), "PERSON": re.compile(r"Maria Keller"),
          "CREDIT_CARD": re.compile(r"\d{4} \d{4} \d{4} \d{4}")}


def span_of(question: str, entity: str) -> dict:
    found = VALUES[entity].search(question) if entity in VALUES else None
    return {"start": found.start(), "end": found.end()} if found else {"start": 0, "end": 0}


@pytest.fixture
def ledger(analyst, admin, officer):
    """#1 a collection created, #2-#4 three answer traces, #5 a policy published."""
    record_event("collection.created", admin, ("collection", 1), name="Handbook", classification="internal")
    record_trace("t-internal", analyst)
    record_trace("t-blocked", analyst, outcome="blocked", shown="blocked", collection="HR cases", entities=("EMAIL_ADDRESS",),
                 question="What is maria@example.com's salary?", answer="This question was not sent to a model.")
    record_trace("t-external", None, shown="not_found", collection="Public", perimeter="external", route="external-general",
                 model="gpt-ext", entities=())
    record_event("policy.published", officer, ("policyversion", 2), version=2)


def listed(client, query="") -> list[int]:
    page = client.get(f"/compliance/ledger/{query}")
    assert page.status_code == 200
    return [int(seq) for seq in re.findall(r'<tr data-seq="(\d+)"', page.content.decode())]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def raw_sql(sql: str, params=()):
    with triggers_set_aside(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_lists_entries_newest_first_with_the_answer_columns(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/").content.decode()

    assert re.findall(r'<tr data-seq="(\d+)"', page) == ["5", "4", "3", "2", "1"]
    row = re.search(r'<tr data-seq="2">(.*?)</tr>', page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1].startswith(TODAY.isoformat())
    assert cells[:1] + cells[2:] == ["2", "alice", "Answer trace t-internal", "When does the office open?", "Answered",
                                     "Inside", "smollm2-135m", "unreviewed"]
    assert '<a href="/compliance/ledger/entries/2/">' in row
    assert "5 entries" in page
    checked = ChainCheck.objects.get()
    assert (f'<span class="chain-badge intact" id="chain-status">Chain intact at {checked.checked_at:%Y-%m-%d %H:%M:%S} UTC: '
            "5 entries</span>") in page


@pytest.mark.parametrize(("query", "seqs"), [
    ("?user=alice", [3, 2]),
    ("?user=charlie", [5]),
    ("?action=answer.", [4, 3, 2]),
    ("?action=answer.blocked", [3]),
    ("?action=policy.", [5]),
    ("?outcome=answered", [2]),
    ("?outcome=not_found", [4]),
    ("?outcome=blocked", [3]),
    ("?perimeter=internal", [2]),
    ("?perimeter=external", [4]),
    ("?route=local-specialist", [2]),
    ("?entity=PERSON", [2]),
    ("?entity=EMAIL_ADDRESS", [3]),
    ("?collection=HR+cases", [3]),
    ("?model=gpt-ext", [4]),
    ("?collection=Handbook&perimeter=internal&user=alice", [2]),
    ("?collection=Handbook&perimeter=external", []),
    ("?review_state=unreviewed", [4, 3, 2]),
    (f"?date_from={TODAY}&date_to={TODAY}", [5, 4, 3, 2, 1]),
    (f"?date_to={TODAY - timedelta(days=1)}", []),
    (f"?date_from={TODAY + timedelta(days=1)}", []),
    (f"?date_from={TODAY}+12:00:00&date_to={TODAY}+23:59:59", [5, 4, 3, 2, 1]),
    (f"?date_to={TODAY}+11:59:59", []),
])
def test_each_filter_narrows_the_list(officer_client, ledger, query, seqs):
    assert listed(officer_client, query) == seqs


@pytest.mark.parametrize(("query", "error"), [
    ("?date_from=04/03/2026", "Write a date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC), as the list shows them, "
                              "for example 2026-03-04 or 2026-03-04 09:30:00."),
    ("?date_from=2026-03-05&date_to=2026-03-04", "The start date 2026-03-05 is after the end date 2026-03-04."),
    ("?action=collection.created", "“collection.created” is not an action the console filters on."),
    ("?review_state=lost", "Select a valid choice. lost is not one of the available choices."),
    ("?outcome=guessed", "“guessed” is not an outcome of an answer."),
])
def test_it_explains_a_bad_filter_and_lists_nothing(officer_client, ledger, query, error):
    page = officer_client.get(f"/compliance/ledger/{query}").content.decode()

    assert f'role="alert">{error}<' in page.replace("&#x27;", "'").replace("&quot;", '"')
    assert "data-seq" not in page
    assert not LedgerEntry.objects.filter(action="ledger.read").exists()


def test_it_pages_fifty_entries_at_a_time_keeping_the_filters(officer_client, analyst):
    for n in range(60):
        record_trace(f"t{n}", analyst)

    first = officer_client.get("/compliance/ledger/?action=answer.").content.decode()
    second = listed(officer_client, "?action=answer.&page=2")

    assert len(re.findall(r"<tr data-seq=", first)) == 50
    assert '<a href="?action=answer.&amp;page=2">Older →</a>' in first
    assert "Page 1 of 2" in first
    assert second == list(range(10, 0, -1))
    assert LedgerEntry.objects.filter(action="ledger.read").last().details == {
        "what": "list", "filters": {"action": "answer."}, "page": 2, "questions_shown": list(range(10, 0, -1))}


def test_each_list_and_entry_view_is_recorded_as_a_read(officer_client, ledger):
    officer_client.get("/compliance/ledger/?perimeter=internal&user=alice")
    officer_client.get("/compliance/ledger/entries/2/")

    reads = LedgerEntry.objects.filter(action="ledger.read").order_by("seq")
    assert [(read.actor_name, read.details) for read in reads] == [
        ("charlie", {"what": "list", "filters": {"perimeter": "internal", "user": "alice"}, "page": 1,
                     "questions_shown": [2]}),
        ("charlie", {"what": "entry", "seq": 2}),
    ]
    assert listed(officer_client, "?action=ledger.&own_reads=shown") == [7, 6]  # reads show up in the next look


def test_it_shows_the_whole_evidence_of_an_answer(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/entries/2/").content.decode()

    entry = LedgerEntry.objects.get(seq=2)
    assert '<blockquote class="sealed-text" id="question">When does the office open?</blockquote>' in page
    assert '<div class="answer sealed-text" id="answer">At 8:00 on weekdays [1].</div>' in page
    assert '<pre id="raw-answer">At 8:00 on weekdays [1]. &lt;|im_end|&gt;</pre>' in page
    assert rows_of_table(page, "findings") == [
        ["Personal data scanner pii", "Person's name PERSON", "not recorded", "0.85", "Keeps it inside", "v1"]]
    assert '<dt>Route</dt><dd>Inside the perimeter <span class="muted code">local-specialist</span></dd>' in page
    assert "<dt>Reason</dt><dd>The collection is internal.</dd>" in page
    assert '<span class="tag">the collections asked: internal</span>' in page
    assert "<dt>Model</dt><dd>smollm2-135m (internal, Q4_1)</dd>" in page
    assert f'<code class="hash">{"ab" * 32}</code>' in page
    assert "<strong>[1]</strong> Hours.md v1, Hours" in page and "· <strong>cited</strong>" in page
    assert '<blockquote class="sealed-text">The office opens at 8:00 on weekdays.</blockquote>' in page
    assert '<p class="muted">system</p><pre>You answer questions.</pre>' in page
    assert f'<code class="hash">{entry.entry_hash}</code>' in page
    assert f'<code class="hash">{entry.prev_hash}</code>' in page
    assert '<span class="tag" title="generate_ms">Generating the answer: 800 ms</span>' in page
    assert "Nobody has reviewed this answer yet." in page
    assert 'href="/compliance/ledger/entries/2/evidence.json"' in page


def test_it_shows_a_blocked_question_and_other_entries_plainly(officer_client, ledger):
    blocked = officer_client.get("/compliance/ledger/entries/3/").content.decode()
    created = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    assert "What is [e-mail address]&#x27;s salary?" in blocked and "maria@" not in blocked  # until asked for
    assert "Not routed: the question was stopped at screening." in blocked
    assert "No prompt: no model was called." in blocked
    assert "<dt>classification</dt><dd><code>internal</code></dd><dt>name</dt><dd><code>Handbook</code></dd>" in created
    assert "review-form" not in created and "evidence.json" not in created


def test_it_says_which_text_retention_destroyed(officer_client, ledger, settings):
    officer_client.post("/compliance/ledger/entries/2/review/", {"decision": "annotated", "note": "Checked with HR"})
    destroy_expired_payloads(now=timezone.now() + timedelta(days=settings.AUDIT_RETENTION_DAYS + 1))

    page = officer_client.get("/compliance/ledger/entries/2/").content.decode()

    assert "When does the office open?" not in page and "The office opens at 8:00" not in page
    # The question, the answer, the raw output and the prompt:
    assert page.count("This text was destroyed at the end of the retention period.") == 4
    assert "The passages' text was destroyed at the end of the retention period." in page
    assert "This note was destroyed at the end of the retention period." in page


def test_it_answers_404_for_an_entry_that_does_not_exist(officer_client, ledger):
    assert officer_client.get("/compliance/ledger/entries/99/").status_code == 404
    assert officer_client.get("/compliance/ledger/entries/1/evidence.json").status_code == 404  # not an answer
    assert officer_client.post("/compliance/ledger/entries/99/review/", {"decision": "reviewed"}).status_code == 404


def test_a_review_is_a_new_entry_with_its_note_sealed(officer_client, ledger):
    response = officer_client.post("/compliance/ledger/entries/2/review/",
                                   {"decision": "reviewed", "note": "Maria Keller confirmed the hours."}, follow=True)

    assert messages_of(response) == ["Entry #2 marked reviewed."]
    review = LedgerEntry.objects.get(action="review.reviewed")
    assert (review.actor_name, review.target_type, review.target_id, review.details) == (
        "charlie", "trace", "t-internal", {"seq": 2})
    assert "Maria" not in json.dumps(review.details) + json.dumps(review.sealed)
    assert unsealed(review) == {"note": "Maria Keller confirmed the hours."}
    page = response.content.decode()
    assert re.search(r'<td>charlie</td>\s*<td><span class="review review-reviewed">reviewed</span></td></tr>\s*'
                     r'<tr class="review-note"><td colspan="3" class="sealed-text">'
                     r'Maria Keller confirmed the hours.</td>', page)
    assert listed(officer_client, "?review_state=reviewed") == [2]
    assert listed(officer_client, "?review_state=unreviewed") == [4, 3]


def test_review_states_follow_the_latest_decision_and_notes_do_not_hide_it(officer_client, ledger, colleague):
    officer_client.post("/compliance/ledger/entries/3/review/", {"decision": "annotated", "note": "Asked about pay"})
    officer_client.post("/compliance/ledger/entries/4/review/", {"decision": "reviewed"})
    officer_client.post("/compliance/ledger/entries/4/review/", {"decision": "escalated", "note": "Went outside",
                                                                  "assignee": "erin"})
    officer_client.post("/compliance/ledger/entries/4/review/", {"decision": "annotated", "note": "Legal informed"})

    assert listed(officer_client, "?review_state=annotated") == [3]
    assert listed(officer_client, "?review_state=escalated") == [4]
    assert listed(officer_client, "?review_state=unreviewed") == [2]
    assert unsealed(LedgerEntry.objects.get(action="review.escalated")) == {"note": "Went outside"}
    assert LedgerEntry.objects.get(action="review.reviewed").sealed == {}


@pytest.mark.parametrize(("seq", "data", "error"), [
    (2, {"decision": "annotated", "note": "  "},
     "Write a note to annotate this answer: an annotation without a note records nothing."),
    (2, {"decision": "approved"}, "“approved” is not a review decision: choose reviewed, annotated or escalated."),
    (2, {"decision": "reviewed", "note": "x" * 4001}, "The note is 4001 characters long; shorten it to 4000 or fewer."),
    (1, {"decision": "reviewed"}, "Entry #1 is not an answer trace: only answers, refusals and blocks are reviewed."),
])
def test_it_refuses_a_review_it_cannot_record(officer_client, ledger, seq, data, error):
    response = officer_client.post(f"/compliance/ledger/entries/{seq}/review/", data)

    if seq == 1:  # not an answer: its page has no review form to say it in
        assert response.status_code == 302 and response["Location"] == f"/compliance/ledger/entries/{seq}/"
        assert messages_of(response) == [error]
    else:  # the page again, with the reason beside the field at fault
        assert response.status_code == 400
        assert re.findall(r'<p class="field-error" id="\w+-error" role="alert">(.*?)</p>',
                          html.unescape(response.content.decode())) == [error]
    assert not LedgerEntry.objects.filter(action__startswith="review.").exists()


def test_it_exports_the_filtered_entries_as_csv_and_records_the_export(officer_client, ledger):
    response = officer_client.get("/compliance/ledger/export.csv?perimeter=internal")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="ledger-{TODAY}.csv"'
    exported = LedgerEntry.objects.get(action="ledger.exported")  # recorded before the first line was sent
    assert exported.actor_name == "charlie"
    assert exported.details == {"format": "csv", "filters": {"perimeter": "internal"}, "entries": 1,
                                "sealed_fields": True, "channel": "console"}
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["seq"], row["action"], row["perimeter"], row["model"], row["question"], row["answer"])
            for row in table] == [("2", "answer.answered", "internal", "smollm2-135m", "When does the office open?",
                                   "At 8:00 on weekdays [1].")]


def test_it_exports_json_lines_that_leave_out_its_own_entry(officer_client, ledger):
    response = officer_client.get("/compliance/ledger/export.jsonl")

    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert response["Content-Disposition"] == f'attachment; filename="ledger-{TODAY}.jsonl"'
    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[1]["opened"]["passage_texts"] == {"1": "The office opens at 8:00 on weekdays."}
    assert rows[1]["entry_hash"] == LedgerEntry.objects.get(seq=2).entry_hash
    assert LedgerEntry.objects.get(action="ledger.exported").details["entries"] == 5


def test_the_list_links_its_exports_with_the_filters(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/?perimeter=internal&action=answer.").content.decode()

    assert ('<a class="button-like" href="/compliance/ledger/export.csv?action=answer.&amp;perimeter=internal">'
            "Export CSV</a>") in page
    assert ('<a class="button-like" href="/compliance/ledger/export.jsonl?action=answer.&amp;perimeter=internal">'
            "Export JSON lines</a>") in page


def test_an_export_with_bad_filters_goes_back_to_the_list_and_exports_nothing(officer_client, ledger):
    response = officer_client.get("/compliance/ledger/export.csv?date_from=yesterday")

    assert response.status_code == 302 and response["Location"] == "/compliance/ledger/?date_from=yesterday"
    assert officer_client.get("/compliance/ledger/export.xml").status_code == 404
    assert not LedgerEntry.objects.filter(action="ledger.exported").exists()


def test_the_evidence_bundle_verifies_offline_and_its_download_is_recorded(officer_client, ledger, tmp_path):
    response = officer_client.get("/compliance/ledger/entries/2/evidence.json")

    assert response["Content-Disposition"] == 'attachment; filename="evidence-entry-2.json"'
    bundle = json.loads(response.content)
    assert bundle["disclosed"]["question"]["value"] == "When does the office open?"
    path = tmp_path / "evidence.json"
    path.write_bytes(response.content)
    verified = subprocess.run(
        [sys.executable, str(REPO / "tools" / "verify_evidence.py"), str(path),
         "--public-key", public_key_bytes().hex()],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Holds: entry #2 (answer.answered, ")
    exported = LedgerEntry.objects.get(action="ledger.evidence_exported")
    assert (exported.actor_name, exported.target_id, exported.details) == (
        "charlie", "t-internal", {"seq": 2, "channel": "console"})


def test_verify_now_records_an_intact_chain_and_the_badge_shows_it(officer_client, ledger):
    response = officer_client.post("/compliance/ledger/verify/", follow=True)

    verified = LedgerEntry.objects.get(action="ledger.verified")
    assert verified.details == {"intact": True, "entries": 5, "checkpoints": 0, "first_problem": ""}
    assert messages_of(response) == ["Intact: 5 entries, chain and 0 signed checkpoint(s) verified."]
    checked = ChainCheck.objects.get()
    assert (f'<span class="chain-badge intact" id="chain-status">Chain intact at {checked.checked_at:%Y-%m-%d %H:%M:%S} UTC: '
            "5 entries</span>") in response.content.decode()


def test_verify_now_shows_a_broken_chain_after_tampering(officer_client, ledger):
    raw_sql("UPDATE audit_ledgerentry SET actor_name = 'mallory' WHERE seq = 2")

    response = officer_client.post("/compliance/ledger/verify/", follow=True)

    problem = "Entry #2 was modified or inserted: its contents do not match its hash."
    assert LedgerEntry.objects.get(action="ledger.verified").details == {
        "intact": False, "entries": 5, "checkpoints": 0, "first_problem": problem}
    assert messages_of(response) == [f"Chain broken: {problem}"]
    page = response.content.decode()
    assert f'<span class="chain-badge broken" id="chain-status">Chain broken: {problem}</span>' in page


GET_URLS = ["/compliance/ledger/", "/compliance/ledger/entries/2/", "/compliance/ledger/export.csv",
            "/compliance/ledger/export.jsonl", "/compliance/ledger/entries/2/evidence.json"]
POST_URLS = ["/compliance/ledger/verify/", "/compliance/ledger/entries/2/review/"]


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
def test_only_compliance_officers_may_open_the_console(client, request, ledger, person):
    client.force_login(request.getfixturevalue(person))

    assert [client.get(url).status_code for url in GET_URLS] == [403] * len(GET_URLS)
    assert [client.post(url, {"decision": "reviewed"}).status_code for url in POST_URLS] == [403] * len(POST_URLS)
    assert not LedgerEntry.objects.filter(action__startswith="review.").exists()
    assert not LedgerEntry.objects.filter(action__in=["ledger.read", "ledger.exported", "ledger.verified"]).exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, ledger):
    for response in [client.get(url) for url in GET_URLS] + [client.post(url) for url in POST_URLS]:
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=/compliance/ledger/")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_no_address_changes_or_removes_an_entry(officer_client, ledger, method):
    statuses = [getattr(officer_client, method)(url).status_code for url in GET_URLS + POST_URLS]

    assert statuses == [405] * len(statuses)
    assert LedgerEntry.objects.filter(seq__lte=5).count() == 5


def test_the_compliance_home_links_to_the_console(officer_client):
    assert '<a href="/compliance/ledger/">Audit ledger</a>' in officer_client.get("/compliance/").content.decode()


def rows_of_table(page: str, table_class: str) -> list[list[str]]:
    """The body rows of the page's table of TABLE_CLASS (or id), as text."""
    table = re.search(rf'<table (?:class|id)="{table_class}">(.*?)</table>', page, re.S).group(1)
    return [[html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell))).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def cells_of(page: str, seq: int) -> list[str]:
    row = re.search(rf'<tr data-seq="{seq}">(.*?)</tr>', page, re.S).group(1)
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell))).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_answer_rows_show_the_question_and_the_outcome_in_words(officer_client, ledger, analyst):
    record_trace("t-quoted", analyst, shown="quoted", question="Which " + "very " * 30 + "long question?")
    record_trace("t-refused", analyst, outcome="refused", shown="refused", question="Anything?")

    page = officer_client.get("/compliance/ledger/").content.decode()

    assert '<th>Question</th><th>Outcome</th>' in page
    assert [cells_of(page, seq)[4:6] for seq in (7, 6, 4, 3, 2)] == [
        ["Anything?", "Refused"],
        ["Which " + "very " * 14 + "…", "Quotes only"],
        ["When does the office open?", "Not in the documents"],
        ["What is [e-mail address]'s salary?", "Blocked"],
        ["When does the office open?", "Answered"],
    ]
    assert cells_of(page, 1)[3:6] == ["Collection created collection.created collection 1", "", ""]
    assert "answer.answered" not in page.split("<tbody>")[1]


def test_a_failed_output_check_shows_in_the_outcome(officer_client, analyst):
    entry = record_trace("t-failed", analyst, shown="quoted")
    failing = entry.details | {"output_checks": [{"name": "citations", "passed": True, "detail": ""},
                                                 {"name": "numbers", "passed": False, "detail": "9:00 is not cited"}]}
    record_event("answer.answered", analyst, ("trace", "t-failed-2"), sealed={"question": "When?"},
                 labels={"outcome": ["quoted"]}, **failing)

    page = officer_client.get("/compliance/ledger/").content.decode()

    assert cells_of(page, 2)[4:6] == ["When?", "Quotes only check failed: numbers"]
    assert cells_of(page, 1)[5] == "Quotes only"


def test_the_list_records_the_questions_it_showed(officer_client, ledger, settings):
    destroy_expired_payloads(now=timezone.now() + timedelta(days=settings.AUDIT_RETENTION_DAYS + 1))
    record_trace("t-new", None, question="Is the canteen open?")

    page = officer_client.get("/compliance/ledger/?action=answer.").content.decode()

    assert cells_of(page, 7)[4] == "Is the canteen open?"
    assert cells_of(page, 2)[4] == "destroyed at the end of the retention period"
    read = LedgerEntry.objects.get(action="ledger.read")
    assert read.details == {"what": "list", "filters": {"action": "answer."}, "page": 1, "questions_shown": [7]}


def test_a_filter_that_matches_nothing_says_so_with_its_count(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/?collection=Handbook&perimeter=external").content.decode()

    assert "<h2>0 entries</h2>" in page
    assert "<p>No entries match these filters.</p>" in page
    assert 'href="/compliance/ledger/export.csv?perimeter=external&amp;collection=Handbook"' in page
    assert "data-seq" not in page


def test_it_counts_the_entries_each_filter_matches(officer_client, ledger):
    assert "<h2>3 entries</h2>" in officer_client.get("/compliance/ledger/?action=answer.").content.decode()
    assert "<h2>1 entry</h2>" in officer_client.get("/compliance/ledger/?outcome=blocked").content.decode()


def test_it_folds_the_officers_own_reads_into_one_line_a_day(officer_client, ledger, officer):
    with time_machine.travel(NOON - timedelta(days=1), tick=True):
        officer_client.get("/compliance/ledger/?user=nobody")
    for _ in range(3):
        officer_client.get("/compliance/ledger/?user=nobody")
    other = make_person("erin", "compliance")
    officer_client.force_login(other)
    officer_client.get("/compliance/ledger/?user=nobody")
    officer_client.force_login(officer)

    page = officer_client.get("/compliance/ledger/").content.decode()

    assert re.findall(r'<tr data-seq="(\d+)"', page) == ["10", "5", "4", "3", "2", "1"]  # erin's read is listed
    assert re.findall(r'<tr class="folded">\s*<td colspan="9">(.*?)</td>', page, re.S) == [
        'You read the ledger 3 times today — <a href="?own_reads=shown">show</a>',
        'You read the ledger once on 2026-06-14 — <a href="?own_reads=shown">show</a>',
    ]
    assert "<h2>6 entries</h2>" in page and "4 of your own ledger reads are folded" in page
    shown = officer_client.get("/compliance/ledger/?own_reads=shown").content.decode()
    assert re.findall(r'<tr data-seq="(\d+)"', shown)[:6] == ["11", "10", "9", "8", "7", "6"]
    assert 'class="folded"' not in shown
    assert '<a href="/compliance/ledger/">Fold my own reads</a>' in shown
    assert LedgerEntry.objects.filter(action="ledger.read", actor_name="charlie").count() == 6  # all still recorded


def test_the_date_filters_take_the_format_the_list_shows(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/").content.decode()
    shown = cells_of(page, 3)[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown)

    assert 3 in listed(officer_client, f"?date_from={shown}&date_to={shown}".replace(" ", "+"))
    assert '<input type="text" name="date_from" placeholder="YYYY-MM-DD HH:MM:SS"' in page


def test_exports_carry_the_review_state_the_reviewer_and_the_notes(officer_client, ledger, officer, colleague):
    officer_client.post("/compliance/ledger/entries/2/review/", {"decision": "annotated", "note": "Asked =HR"})
    officer_client.post("/compliance/ledger/entries/2/review/", {"decision": "reviewed", "note": "Hours confirmed"})
    officer_client.post("/compliance/ledger/entries/3/review/", {"decision": "escalated", "note": "Salary question",
                                                                  "assignee": "erin"})

    response = officer_client.get("/compliance/ledger/export.csv?action=answer.")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    rows = [json.loads(line) for line in b"".join(officer_client.get(
        "/compliance/ledger/export.jsonl?action=answer.").streaming_content).decode().splitlines()]

    at = {entry.seq: entry.at for entry in LedgerEntry.objects.filter(action__startswith="review.")}
    assert [(row["seq"], row["review_state"], row["reviewer"]) for row in table] == [
        ("2", "reviewed", "charlie"), ("3", "escalated", "charlie"), ("4", "unreviewed", "")]
    assert table[0]["review_notes"] == (f"#6 {at[6]:%Y-%m-%d %H:%M:%S} charlie, annotated: Asked =HR\n"
                                        f"#7 {at[7]:%Y-%m-%d %H:%M:%S} charlie, reviewed: Hours confirmed")
    assert table[1]["review_notes"] == f"#8 {at[8]:%Y-%m-%d %H:%M:%S} charlie, escalated: Salary question"
    assert rows[0]["review"] == {"state": "reviewed", "reviewer": "charlie", "notes": [
        {"seq": 6, "at": f"{at[6]:%Y-%m-%dT%H:%M:%S.%fZ}", "by": "charlie", "decision": "annotated", "note": "Asked =HR"},
        {"seq": 7, "at": f"{at[7]:%Y-%m-%dT%H:%M:%S.%fZ}", "by": "charlie", "decision": "reviewed",
         "note": "Hours confirmed"}]}
    assert rows[2]["review"] == {"state": "unreviewed", "reviewer": "", "notes": []}
    policy = officer_client.get("/compliance/ledger/export.jsonl?action=policy.")
    assert "review" not in json.loads(b"".join(policy.streaming_content))


def test_it_says_inside_or_outside_and_no_model_where_none_ran(officer_client, ledger, analyst):
    record_trace("t-answered-inside", analyst)

    page = officer_client.get("/compliance/ledger/?action=answer.").content.decode()
    rows = dict(re.findall(r'<tr data-seq="(\d+)".*?<span class="outcome[^>]*>[^<]*</span>.*?</td>\s*(.*?)\s*<td><span class="review',
                           page, re.S))

    assert re.sub(r"\s+", " ", rows["6"]) == "<td>Inside</td> <td>smollm2-135m</td>"  # answered inside
    assert rows["4"].strip() == '<td colspan="2" class="muted">no model ran</td>'  # not in the documents
    assert rows["3"].strip() == '<td colspan="2" class="muted">no model ran</td>'  # blocked


CARD_QUESTION = "Why was card 4111 1111 1111 1111 of Maria Keller refused on 3 May?"
CARD_FINDINGS = [
    {"detector": "pii", "type": "CREDIT_CARD", "start": 13, "end": 32, "score": 1.0, "action": "block", "reading": "normalised"},
    # Overlapping spans of one value are masked as one; a date the policy only reports stays.
    {"detector": "pii", "type": "PERSON", "start": 36, "end": 41, "score": 0.85, "action": "sensitive", "reading": "normalised"},
    {"detector": "pii", "type": "PERSON", "start": 36, "end": 48, "score": 0.85, "action": "sensitive", "reading": "normalised"},
    {"detector": "pii", "type": "DATE_TIME", "start": 60, "end": 65, "score": 0.85, "action": "report", "reading": "normalised"},
]


def test_lists_and_the_entry_mask_the_personal_data_of_a_question_by_kind(officer_client, analyst):
    record_trace("t-card", analyst, outcome="blocked", shown="blocked", question=CARD_QUESTION, findings=CARD_FINDINGS)

    listed_page = officer_client.get("/compliance/ledger/").content.decode()
    queue_page = officer_client.get("/compliance/").content.decode()
    entry_page = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    masked = "Why was card [payment card number] of [person's name] refused on 3 May?"
    assert cells_of(listed_page, 1)[4] == masked
    assert masked in html.unescape(queue_page)
    assert "4111" not in listed_page and "Keller" not in listed_page
    assert "4111" not in queue_page and "Keller" not in queue_page
    assert f'<blockquote class="sealed-text" id="question">{html.escape(masked)}</blockquote>' in entry_page
    assert "4111" not in entry_page and "Keller" not in entry_page
    assert "Show the question as asked" in entry_page
    assert rows_of_table(entry_page, "findings")[0] == [
        "Personal data scanner pii", "Payment card number CREDIT_CARD", "14-32", "1.00", "Blocks", "v1"]
    assert rows_of_table(entry_page, "findings")[3][4] == "Recorded for officers; does not stop the question"


def test_the_entry_page_and_the_test_bench_give_a_findings_characters_alike(officer_client, analyst):
    from guardrails.testbench import matched_words

    record_trace("t-card", analyst, outcome="blocked", shown="blocked", question=CARD_QUESTION, findings=CARD_FINDINGS)
    entry_page = officer_client.get("/compliance/ledger/entries/1/").content.decode()
    card = SimpleNamespace(**CARD_FINDINGS[0])

    # Counted from 1, both ends included: the card number is CARD_QUESTION[13:32], its 14th to 32nd characters.
    assert CARD_QUESTION[13:32] == "4111 1111 1111 1111"
    assert "<th>Characters <span class=\"muted\">(from 1)</span></th>" in entry_page
    assert rows_of_table(entry_page, "findings")[0][2] == "14-32"
    assert matched_words(card, CARD_QUESTION) == "payment card number, characters 14-32"


PASSAGE = "Opening hours: 8:00 to 18:00. Questions go to the front desk on 020 7946 0958 during those hours."
QUOTE = "Questions go to the front desk on 020 7946 0958 during those hours."
PHONE = PASSAGE.index("020")


def test_the_answer_shown_is_masked_as_the_analyst_saw_it(officer_client, analyst):
    from appliance.answering.models import Conversation, Exchange

    start = PASSAGE.index(QUOTE)
    record_trace("t-quoted", analyst, shown="quoted", question="Who answers questions?",
                 answer=f"The documents say:\n\u201c{QUOTE}\u201d [1]", passage=PASSAGE,
                 quotes=[{"n": 1, "start": start, "end": start + len(QUOTE), "score": 0.9}])
    conversation = Conversation.objects.create(user=analyst)
    Exchange.objects.create(conversation=conversation, trace_id="t-quoted",
                            passage_entities={"c" * 64: [[PHONE, PHONE + 13, "PHONE_NUMBER"]]})

    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    answer = re.search(r'<div class="answer sealed-text" id="answer">(.*?)</div>', page, re.S).group(1)
    assert html.unescape(answer) == ("The documents say:\n\u201cQuestions go to the front desk on \u2022\u2022\u2022"
                                     "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022 during those hours.\u201d [1]")
    assert "As the analyst saw it: phone number masked" in page
    # The passages, labelled unmasked, keep the number for the officer.
    assert f'<blockquote class="sealed-text">{PASSAGE}</blockquote>' in page
    assert "As the documents hold them, unmasked" in page


def test_an_answer_whose_exchange_is_gone_says_its_masks_are_unknown(officer_client, analyst):
    start = PASSAGE.index(QUOTE)
    record_trace("t-gone", analyst, shown="quoted", answer=f"The documents say:\n\u201c{QUOTE}\u201d [1]", passage=PASSAGE,
                 quotes=[{"n": 1, "start": start, "end": start + len(QUOTE), "score": 0.9}])

    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    answer = re.search(r'<div class="answer sealed-text" id="answer">(.*?)</div>', page, re.S).group(1)
    assert "020 7946 0958 during those hours" in answer
    assert "The analyst's conversation is no longer stored" in page


def test_the_evidence_names_timings_and_checks_in_words_with_units(officer_client, analyst):
    entry = record_trace("t-timed", analyst)
    details = entry.details | {
        "timings": {"screen_ms": 41.23, "retrieve_ms": 180.0, "generate_ms": 12345.0, "pieces": 17},
        "output_checks": [{"name": "grounding", "passed": False, "detail": "9:00 is not in the quotes"}]}
    record_event("answer.answered", analyst, ("trace", "t-timed-2"), sealed={"question": "When?"},
                 labels={"outcome": ["quoted"]}, **details)

    page = officer_client.get("/compliance/ledger/entries/2/").content.decode()

    timings = re.search(r'<p id="timings">(.*?)</p>', page, re.S).group(1)
    assert [html.unescape(tag) for tag in re.findall(r'<span class="tag" title="[a-z_]+">(.*?)</span>', timings)] == [
        "Screening the question: 41 ms", "Retrieving passages: 180 ms", "Generating the answer: 12.3 s",
        "Pieces the model wrote: 17"]
    assert rows_of_table(page, "output-checks") == [
        ["Grounding: says only what its quotes say (figures, names, quotations)", "failed", "9:00 is not in the quotes"]]
    assert "screen_ms:" not in page


def test_the_filters_suggest_entity_types_and_routes_in_words(officer_client, ledger):
    page = officer_client.get("/compliance/ledger/").content.decode()

    assert '<option value="EMAIL_ADDRESS" label="e-mail address">' in page
    assert '<option value="external-general" label="Outside the perimeter">' in page


def test_the_officer_shows_a_masked_question_as_asked_and_that_is_recorded(officer_client, analyst):
    record_trace("t-card", analyst, outcome="blocked", shown="blocked", question=CARD_QUESTION, findings=CARD_FINDINGS)

    shown = officer_client.post("/compliance/ledger/entries/1/", {"show": "question"})

    page = shown.content.decode()
    assert shown.status_code == 200
    assert f'<blockquote class="sealed-text" id="question">{html.escape(CARD_QUESTION)}</blockquote>' in page
    assert "Show the question as asked" not in page and 'id="question-revealed"' in page
    reads = LedgerEntry.objects.filter(action="ledger.read").order_by("seq")
    assert [read.details for read in reads] == [{"what": "entry", "seq": 1}, {"what": "question", "seq": 1}]
    assert "4111" not in str([read.details for read in reads])
    # A reload is masked again: each showing is asked for, and recorded.
    assert "4111" not in officer_client.get("/compliance/ledger/entries/1/").content.decode()


def test_a_question_with_nothing_to_mask_shows_as_it_is_and_offers_nothing(officer_client, analyst):
    record_trace("t-plain", analyst, entities=())

    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()
    shown = officer_client.post("/compliance/ledger/entries/1/", {"show": "question"}).content.decode()

    assert '<blockquote class="sealed-text" id="question">When does the office open?</blockquote>' in page
    assert "Show the question as asked" not in page and 'id="question-revealed"' not in shown
    assert not LedgerEntry.objects.filter(action="ledger.read", details__what="question").exists()


def test_a_question_not_checked_for_personal_data_is_not_shown_until_the_officer_asks(officer_client, analyst):
    question = "Mail john.smith1987@gmail.com the card 4111 1111 1111 1111 " + "please " * 700
    overlong = [{"detector": "length", "type": "longer than 4000 characters", "start": 4000, "end": len(question),
                 "score": 1.0, "action": "block", "reading": "normalised"}]
    record_trace("t-long", analyst, outcome="blocked", shown="blocked", question=question, findings=overlong)

    listed = officer_client.get("/compliance/ledger/?kind=answers").content.decode()
    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()
    shown = officer_client.post("/compliance/ledger/entries/1/", {"show": "question"}).content.decode()

    for masked in (listed, page):
        assert "[question not shown: it was not checked for personal data]" in masked
        assert "john.smith1987" not in masked and "4111" not in masked
    assert "Screening did not check this question for personal data, so it is not shown." in page
    assert "Show the question as asked" in page and "john.smith1987@gmail.com" in shown
    assert LedgerEntry.objects.filter(action="ledger.read", details__what="question").count() == 1


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
def test_only_officers_may_show_a_question_as_asked(client, request, analyst, person):
    record_trace("t-card", analyst, outcome="blocked", shown="blocked", question=CARD_QUESTION, findings=CARD_FINDINGS)
    client.force_login(request.getfixturevalue(person))

    response = client.post("/compliance/ledger/entries/1/", {"show": "question"})

    assert response.status_code == 403 and "4111" not in response.content.decode()
    assert not LedgerEntry.objects.filter(action="ledger.read").exists()


def test_showing_a_question_needs_the_csrf_token(analyst, officer):
    from django.test import Client

    record_trace("t-card", analyst, outcome="blocked", shown="blocked", question=CARD_QUESTION, findings=CARD_FINDINGS)
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)

    response = client.post("/compliance/ledger/entries/1/", {"show": "question"})

    assert response.status_code == 403 and "4111" not in response.content.decode()


def test_the_answer_shown_masks_a_value_it_repeats_from_a_masked_quote(officer_client, analyst):
    from appliance.answering.models import Conversation, Exchange

    start = PASSAGE.index(QUOTE)
    record_trace("t-answered", analyst, question="Who answers questions?", passage=PASSAGE,
                 answer="Call the front desk on 020 7946 0958 [1].",
                 quotes=[{"n": 1, "start": start, "end": start + len(QUOTE), "score": 0.9}])
    Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), trace_id="t-answered",
                            passage_entities={"c" * 64: [[PHONE, PHONE + 13, "PHONE_NUMBER"]]})

    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    answer = re.search(r'<div class="answer sealed-text" id="answer">(.*?)</div>', page, re.S).group(1)
    assert html.unescape(answer) == "Call the front desk on \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022 [1]."
    assert "As the analyst saw it: phone number masked" in page


def test_no_mask_is_claimed_when_the_analyst_saw_no_quotes(officer_client, analyst):
    """A question the documents do not answer: quotes were chosen, but the analyst read only
    "The documents don't answer this", so nothing they saw was masked."""
    from appliance.answering.models import Conversation, Exchange

    start = PASSAGE.index(QUOTE)
    record_trace("t-none", analyst, shown="not_found", details_outcome="not_found", question="Who won in 2022?",
                 answer="The documents don't answer this.", passage=PASSAGE,
                 quotes=[{"n": 1, "start": start, "end": start + len(QUOTE), "score": 0.2}])
    conversation = Conversation.objects.create(user=analyst)
    Exchange.objects.create(conversation=conversation, trace_id="t-none",
                            passage_entities={"c" * 64: [[PHONE, PHONE + 13, "PHONE_NUMBER"]]})

    page = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    assert "As the analyst saw it" not in page and 'id="answer-masked"' not in page
    assert '<div class="answer sealed-text" id="answer">The documents don&#x27;t answer this.</div>' in page


def test_the_entry_names_its_event_and_verdict_in_words_once(officer_client, analyst, ledger):
    record_trace("t-clean", analyst, findings=[])
    clean = LedgerEntry.objects.get(target_id="t-clean")

    page = officer_client.get(f"/compliance/ledger/entries/{clean.seq}/").content.decode()
    created = officer_client.get("/compliance/ledger/entries/1/").content.decode()

    assert '<dt>Event</dt><dd>Answer <span class="muted code">answer.answered</span></dd>' in page
    assert re.search(r"<h1>Entry #\d+ <span class=\"badge\">Answered</span> <span class=\"review", page)
    assert "Verdict <strong>Kept inside: sensitive</strong> under policy v1." in page  # not "sensitive sensitive"
    assert '<span class="badge">Collection created</span>' in created


def test_the_event_column_says_what_happened_in_words_with_the_code_beside(officer_client, ledger, officer):
    officer_client.get("/compliance/")  # a read of the queue, #6

    page = officer_client.get("/compliance/ledger/?own_reads=shown").content.decode()

    assert cells_of(page, 5)[3] == "Question policy published policy.published policy version 2"
    assert cells_of(page, 6)[3] == "Read the ledger: the review queue ledger.read"
    assert '<a href="/compliance/ledger/entries/6/">Read the ledger</a>: the review queue ' \
           '<span class="muted code">ledger.read</span>' in page
