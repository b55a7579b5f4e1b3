"""The worker watches the chain: its periodic task verifies incrementally, keeps the result for the
console's badge, the officers' banner and /healthz, and writes one alert when the chain breaks."""
import json
from html import escape
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from appliance.audit.chain import GENESIS, entry_hash
from appliance.audit.models import ChainCheck, LedgerEntry
from appliance.audit.recording import entry_body, record_event
from appliance.audit.tasks import verify_chain, verify_whole_chain, write_checkpoint
from appliance.audit.verification import verify_ledger
from tests.append_only import triggers_set_aside

pytestmark = [pytest.mark.django_db, pytest.mark.services]

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
MAC_BROKEN = "Entry #4 has a MAC that does not hold: it was written or rewritten without the ledger's MAC key."


@pytest.fixture(autouse=True)
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def record_entries(count: int) -> None:
    for n in range(count):
        record_event("document.uploaded", None, ("document", n), labels={"collection": ["HR cases"]})


def raw_sql(sql: str, params=()):
    with triggers_set_aside(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def forge_mac_of(seq: int) -> None:
    """A database writer replaces entry SEQ's action and recomputes its hash; its MAC, made with a
    key they do not hold, no longer matches. Later links are left alone: the MAC alone tells."""
    entry = LedgerEntry.objects.get(seq=seq)
    entry.action = "document.erased"
    raw_sql("UPDATE audit_ledgerentry SET action = %s, entry_hash = %s WHERE id = %s",
            (entry.action, entry_hash(entry_body(entry, {"collection": ["HR cases"]})), entry.pk))


def test_the_task_verifies_and_keeps_the_result(clock):
    record_entries(3)

    assert verify_chain() is True

    check = ChainCheck.objects.get()
    assert (check.checked_at, check.entries, check.is_intact, check.first_problem) == (NOON, 3, True, "")


def test_it_resumes_from_the_last_verified_checkpoint_and_rereads_only_what_follows(clock):
    record_entries(3)
    assert write_checkpoint() == 3
    assert verify_chain() is True  # resumes after entry #3 from now on
    record_entries(2)
    # A change behind the checkpoint that keeps the hash (only the body column) is left to the
    # daily whole run; anything after the checkpoint is read again on every run.
    raw_sql("UPDATE audit_ledgerentry SET target_id = 'x' WHERE seq = 2")

    assert verify_chain() is True
    assert ChainCheck.objects.get().entries == 5
    assert verify_whole_chain() is False
    assert ChainCheck.objects.get().first_problem == "Entry #2 was modified or inserted: its contents do not match its hash."


def test_an_entry_changed_after_it_was_first_verified_is_caught_on_the_next_run(clock):
    record_entries(5)
    assert verify_chain() is True
    forge_mac_of(4)

    assert verify_chain() is False
    assert ChainCheck.objects.get().first_problem == MAC_BROKEN


def test_a_broken_chain_writes_one_alert_and_a_repaired_one_rearms_it(clock):
    record_entries(5)
    assert verify_chain() is True
    original = LedgerEntry.objects.get(seq=4)
    forge_mac_of(4)

    for _run in range(3):
        assert verify_chain() is False
    assert write_checkpoint() is None  # refused, and no second alert

    alerts = LedgerEntry.objects.filter(action="ledger.chain_broken")
    assert [(alert.seq, alert.details["first_problem"]) for alert in alerts] == [(6, MAC_BROKEN)]
    raw_sql("UPDATE audit_ledgerentry SET action = %s, entry_hash = %s WHERE id = %s",
            (original.action, original.entry_hash, original.pk))
    assert verify_chain() is True
    forge_mac_of(4)
    assert verify_chain() is False
    assert LedgerEntry.objects.filter(action="ledger.chain_broken").count() == 2


def test_a_state_record_changed_in_the_database_shows_as_broken(clock, client, officer):
    record_entries(2)
    assert verify_chain() is True
    forge_mac_of(2)
    assert verify_chain() is False
    raw_sql("UPDATE audit_chaincheck SET is_intact = %s, first_problem = ''", (True,))

    client.force_login(officer)
    page = client.get("/compliance/").content.decode()

    assert "The audit ledger's chain is broken: " + escape(
        "The record of the chain's last verification was changed outside the appliance.") in page
    assert verify_chain() is False
    assert ChainCheck.objects.get().first_problem == "Entry #2 has a MAC that does not hold: it was written or rewritten without the ledger's MAC key."


def test_the_badge_shows_the_watchers_last_verification(clock, client, officer):
    record_entries(4)
    verify_chain()
    client.force_login(officer)

    page = client.get("/compliance/ledger/").content.decode()

    assert '<span class="chain-badge intact" id="chain-status">Chain intact at 2026-06-15 12:00:00 UTC: 4 entries</span>' in page
    assert '<span class="muted" id="chain-coverage">0 signed checkpoint(s).</span>' in page
    assert "Not verified" not in page


def test_the_badge_is_never_blank_before_the_worker_first_runs(clock, client, officer):
    record_entries(2)
    client.force_login(officer)

    page = client.get("/compliance/ledger/").content.decode()

    assert '<span class="chain-badge intact" id="chain-status">Chain intact at 2026-06-15 12:00:00 UTC: 2 entries</span>' in page


BANNER = ('<p class="notice error" role="alert" id="chain-alarm">The audit ledger\'s chain is broken: '
          f"{escape(MAC_BROKEN)} Found 2026-06-15 12:00:00 UTC; no checkpoint is signed until it is resolved. "
          '<a href="/compliance/ledger/">Open the audit ledger</a>.</p>')


@pytest.mark.parametrize("path", ["/compliance/", "/compliance/ledger/", "/compliance/policy/", "/account/tokens/"])
def test_every_officer_sees_the_banner_on_every_page(clock, client, roles, path):
    from tests.conftest import make_person

    record_entries(5)
    forge_mac_of(4)
    verify_chain()

    for name in ("charlie", "erin"):
        client.force_login(make_person(name, "compliance"))
        assert BANNER in client.get(path).content.decode()


def test_other_roles_see_no_banner(clock, client, analyst, admin):
    record_entries(5)
    forge_mac_of(4)
    verify_chain()

    for person in (analyst, admin):
        client.force_login(person)
        assert "chain-alarm" not in client.get("/").content.decode()


def test_healthz_reports_the_chain_state_without_details(clock, client):
    record_entries(5)
    assert client.get("/healthz").json()["ledger"] == "unverified"
    verify_chain()
    assert client.get("/healthz").json() | {"worker_last_seen": None} == {
        "database": "up", "worker": "silent", "worker_last_seen": None, "ledger": "intact",
        "ledger_verified_at": "2026-06-15T12:00:00+00:00", "ledger_entries_verified": 5}
    forge_mac_of(4)
    verify_chain()

    body = client.get("/healthz").json()
    assert (body["ledger"], body["ledger_entries_verified"]) == ("broken", 5)
    assert "Entry" not in json.dumps(body)


def legacy_entry(seq: int, prev: str) -> str:
    """Insert entry SEQ as the appliance wrote it before MACs: no MAC, no labels in its body."""
    entry = LedgerEntry(seq=seq, at=NOON, actor_id=None, actor_name="", action="document.uploaded", target_type="document",
                        target_id=str(seq), details={}, sealed={}, prev_hash=prev)
    entry.entry_hash = entry_hash(entry_body(entry, None))
    raw_sql("INSERT INTO audit_ledgerentry (seq, at, actor_id, actor_name, action, target_type, target_id, details, sealed, "
            "prev_hash, entry_hash) VALUES (%s, %s, NULL, '', 'document.uploaded', 'document', %s, '{}', '{}', %s, %s)",
            (seq, NOON, str(seq), prev, entry.entry_hash))
    return entry.entry_hash


def test_entries_written_before_macs_are_reported_not_silently_accepted(clock):
    prev = GENESIS
    for seq in (1, 2):
        prev = legacy_entry(seq, prev)
    raw_sql("INSERT INTO audit_ledgerhead (id, size, last_hash, frontier) VALUES (1, 2, %s, %s)",
            (prev, json.dumps(_frontier_of([LedgerEntry.objects.get(seq=1).entry_hash, prev]))))
    record_entries(2)

    report = verify_ledger()

    assert report.summary == ("Intact: 4 entries, chain and 0 signed checkpoint(s) verified. Entries #1 to #2 were "
                              "written before MACs: their hashes and the checkpoints cover them, but no MAC and not their "
                              "labels.")


def _frontier_of(hashes: list[str]) -> list[str]:
    from appliance.audit.chain import leaf_of
    from appliance.audit.merkle import MerkleFrontier

    frontier = MerkleFrontier()
    for value in hashes:
        frontier.append(leaf_of(value))
    return frontier.to_list()
