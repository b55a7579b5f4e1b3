"""The audit ledger: appending, sealing, verifying, checkpoints, retention, export and evidence."""
import base64
import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appliance.audit.chain import GENESIS, canonical_json, entry_hash
from appliance.audit.checkpoints import public_key_bytes, read_checkpoints, write_checkpoint
from appliance.audit.evidence import evidence_bundle
from appliance.audit.models import EntryLabel, LedgerEntry, SealedPayload
from appliance.audit.reading import unsealed
from appliance.audit.recording import body_of, record_event
from appliance.audit.retention import destroy_expired_payloads
from appliance.audit.sealing import LedgerKey, SealBroken, ledger_key
from appliance.audit.verification import verify_ledger
from tests.append_only import triggers_set_aside

pytestmark = [pytest.mark.services]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


def record_trace(n: int, actor=None, question="Who signed the supply agreement?"):
    return record_event("answer.answered", actor, ("trace", f"t{n}"), sealed={"question": question, "answer": f"Answer {n} [1]."},
                        labels={"collection": ["Contracts"], "perimeter": ["internal"]}, route={"perimeter": "internal"})


def raw_sql(sql: str, params=()):
    with triggers_set_aside(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_it_chains_entries_in_order_from_the_genesis_hash(analyst):
    first = record_event("collection.created", analyst, ("collection", 7), name="Contracts")
    second = record_trace(1, analyst)

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.entry_hash
    assert second.entry_hash == entry_hash(body_of(LedgerEntry.objects.get(seq=2)))
    assert (second.actor_name, second.actor_id, second.target_id) == ("alice", analyst.pk, "t1")
    assert set(EntryLabel.objects.filter(entry=second).values_list("kind", "value")) == {
        ("collection", "Contracts"), ("perimeter", "internal")}


@pytest.mark.django_db
def test_it_seals_sensitive_fields_and_opens_them_with_the_key():
    entry = record_trace(1, question="Does Maria Keller (maria@example.com) have a contract?")

    stored = b"".join(bytes(p.ciphertext) for p in SealedPayload.objects.filter(entry=entry))
    assert b"Maria" not in stored and b"example.com" not in stored
    assert "Maria" not in json.dumps(entry.details) + json.dumps(entry.sealed)
    assert unsealed(entry) == {"question": "Does Maria Keller (maria@example.com) have a contract?", "answer": "Answer 1 [1]."}
    with pytest.raises(SealBroken) as broken:
        unsealed(entry, LedgerKey(b"k" * 32))
    assert broken.value.message == f"Entry #1: its field “question” was sealed with another key ({ledger_key().key_id})."


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_entries_and_payloads():
    entry = record_trace(1)

    for statement in ("UPDATE audit_ledgerentry SET action = 'x'", "DELETE FROM audit_ledgerentry",
                      "UPDATE audit_sealedpayload SET field = 'x'", "DELETE FROM audit_entrylabel"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert LedgerEntry.objects.get(pk=entry.pk).action == "answer.answered"


@pytest.mark.django_db
def test_it_verifies_an_intact_ledger_with_and_without_the_key(capsys):
    for n in range(1, 6):
        record_trace(n)
    write_checkpoint()
    record_event("policy.published", None, None, version=2)

    report = verify_ledger(key=ledger_key())
    assert report.is_intact
    assert report.summary == "Intact: 6 entries, chain and 1 signed checkpoint(s) verified, every sealed field opened and matched."
    call_command("audit", "verify")
    assert capsys.readouterr().out.strip() == "Intact: 6 entries, chain and 1 signed checkpoint(s) verified."


@pytest.mark.django_db
def test_verify_exits_1_naming_the_first_bad_entry(capsys):
    for n in range(1, 6):
        record_trace(n)
    raw_sql("UPDATE audit_ledgerentry SET actor_name = 'mallory' WHERE seq = 3")

    with pytest.raises(SystemExit) as exited:
        call_command("audit", "verify")

    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines()[0] == "Entry #3 was modified or inserted: its contents do not match its hash."


@pytest.mark.django_db
def test_a_changed_ciphertext_byte_is_caught_without_the_key_and_a_swapped_one_with_it():
    for n in range(1, 4):
        record_trace(n)
    payload = SealedPayload.objects.get(entry__seq=2, field="answer")
    flipped = bytearray(payload.ciphertext)
    flipped[-1] ^= 1
    raw_sql("UPDATE audit_sealedpayload SET ciphertext = %s WHERE id = %s", (bytes(flipped), payload.pk))

    assert verify_ledger().problems[0].message == "Entry #2: its sealed field “answer” was modified."


@pytest.mark.django_db
def test_a_tail_cut_behind_a_checkpoint_is_caught(checkpoint_file):
    for n in range(1, 6):
        record_trace(n)
    checkpoint = write_checkpoint()
    raw_sql("DELETE FROM audit_sealedpayload WHERE entry_id IN (SELECT id FROM audit_ledgerentry WHERE seq >= 4)")
    raw_sql("DELETE FROM audit_entrylabel WHERE entry_id IN (SELECT id FROM audit_ledgerentry WHERE seq >= 4)")
    raw_sql("DELETE FROM audit_ledgerentry WHERE seq >= 4")
    raw_sql("UPDATE audit_ledgerhead SET size = 3")  # the intruder tidies the head too

    problems = [problem.message for problem in verify_ledger().problems]

    assert problems == [f"The ledger ends at entry #3, but the checkpoint signed {checkpoint.at} covers 5 entries: "
                        "entries #4 to #5 were removed."]


@pytest.mark.django_db
def test_a_history_rewritten_with_fresh_hashes_is_caught_by_the_checkpoint():
    for n in range(1, 5):
        record_trace(n)
    checkpoint = write_checkpoint()
    # Rewrite entry 2 and recompute its hash and every later link: the chain alone looks intact.
    prev = LedgerEntry.objects.get(seq=1).entry_hash
    for entry in LedgerEntry.objects.filter(seq__gte=2).order_by("seq"):
        entry.actor_name = "mallory" if entry.seq == 2 else entry.actor_name
        entry.prev_hash = prev
        prev = entry_hash(body_of(entry))
        raw_sql("UPDATE audit_ledgerentry SET actor_name = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                (entry.actor_name, entry.prev_hash, prev, entry.pk))

    mac_broken = "has a MAC that does not hold: it was written or rewritten without the ledger's MAC key."
    assert [problem.message for problem in verify_ledger().problems] == [
        f"Entry #2 {mac_broken}", f"Entry #3 {mac_broken}", f"Entry #4 {mac_broken}",
        f"Entries #1 to #4 are not the ones the checkpoint signed {checkpoint.at} covers (its Merkle root differs): "
        "the history was rewritten."]


@pytest.mark.django_db
def test_a_forged_checkpoint_line_is_reported(checkpoint_file):
    record_trace(1)
    write_checkpoint()
    line = json.loads(checkpoint_file.read_text())
    checkpoint_file.write_text(checkpoint_file.read_text() + json.dumps(line | {"size": 9}) + "\nnot json\n")

    checkpoints, problems = read_checkpoints()

    assert [c.size for c in checkpoints] == [1]
    assert problems == ["Checkpoint file line 2 (size 9) has a signature that does not hold.",
                        "Checkpoint file line 3 is not a checkpoint."]


@pytest.mark.django_db
def test_retention_destroys_old_payloads_and_the_chain_still_verifies(settings):
    old = record_trace(1)
    eight_years_on = timezone.now() + timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)

    assert destroy_expired_payloads(now=eight_years_on) == 2
    recent = record_trace(2)

    assert unsealed(LedgerEntry.objects.get(pk=old.pk)) == {"question": None, "answer": None}
    assert unsealed(LedgerEntry.objects.get(pk=recent.pk))["answer"] == "Answer 2 [1]."
    destroyed = LedgerEntry.objects.get(action="ledger.payloads_destroyed")
    assert (destroyed.details["through_seq"], destroyed.details["payloads"]) == (1, 2)
    assert verify_ledger(key=ledger_key()).is_intact
    assert destroy_expired_payloads() == 0  # nothing is past the period today


@pytest.mark.django_db
def test_a_payload_deleted_before_its_retention_ended_is_caught():
    record_trace(1)
    raw_sql("DELETE FROM audit_sealedpayload WHERE field = 'question'")

    assert verify_ledger().problems[0].message == "Entry #1: its sealed field “question” was deleted before its retention ended."


@pytest.mark.django_db
def test_export_writes_jsonl_and_csv_and_records_itself(tmp_path):
    record_trace(1, question="=HYPERLINK(\"http://evil.example\")")
    record_event("collection.created", None, ("collection", 3), name="HR")

    call_command("audit", "export", "--format", "jsonl", "--output", str(tmp_path / "ledger.jsonl"))
    call_command("audit", "export", "--format", "csv", "--since", "2000-01-01", "--output", str(tmp_path / "ledger.csv"))

    rows = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    # as recorded: the entries up to the export's own, which is left out
    assert [row["action"] for row in rows] == ["answer.answered", "collection.created"]
    assert rows[0]["opened"]["answer"] == "Answer 1 [1]."
    outside_the_body = ("entry_hash", "mac", "opened", "review")
    assert all(entry_hash({k: v for k, v in row.items() if k not in outside_the_body}) == row["entry_hash"]
               for row in rows)
    table = list(csv.DictReader(io.StringIO((tmp_path / "ledger.csv").read_text())))
    assert table[0]["question"].startswith("'=HYPERLINK")  # not a live formula in a spreadsheet
    assert table[0]["perimeter"] == "internal" and table[1]["action"] == "collection.created"
    assert list(LedgerEntry.objects.filter(action="ledger.exported").values_list("details", flat=True)) == [
        {"format": "jsonl", "filters": {}, "entries": 2, "sealed_fields": True, "channel": "command"},
        {"format": "csv", "filters": {"date_from": "2000-01-01"}, "entries": 3, "sealed_fields": True,
         "channel": "command"}]


@pytest.mark.django_db
def test_export_carries_each_answers_review_state_reviewer_and_notes(tmp_path, officer, roles):
    from appliance.audit.review import review_trace
    from tests.conftest import make_person

    erin = make_person("erin", "compliance")
    answered, untouched = record_trace(1), record_trace(2)
    review_trace(answered, officer, "annotated", "Asked about =SUM(A1)")
    review_trace(answered, officer, "escalated", "HR should look", assignee="erin")
    review_trace(answered, erin, "reviewed")

    call_command("audit", "export", "--format", "csv", "--output", str(tmp_path / "ledger.csv"))
    call_command("audit", "export", "--format", "jsonl", "--output", str(tmp_path / "ledger.jsonl"))
    call_command("audit", "export", "--format", "jsonl", "--without-sealed", "--output", str(tmp_path / "plain.jsonl"))

    table = {row["seq"]: row for row in csv.DictReader(io.StringIO((tmp_path / "ledger.csv").read_text()))}
    assert (table["1"]["review_state"], table["1"]["reviewer"]) == ("reviewed", "erin")
    assert [line[line.index(" ", 18):] for line in table["1"]["review_notes"].splitlines()] == [
        " charlie, annotated: Asked about =SUM(A1)", " charlie, escalated: HR should look", " erin, reviewed"]
    assert (table["2"]["review_state"], table["2"]["reviewer"], table["2"]["review_notes"]) == ("unreviewed", "", "")
    assert table["3"]["review_state"] == ""  # a review is not an answer: no review columns filled
    rows = {row["seq"]: row for row in map(json.loads, (tmp_path / "ledger.jsonl").read_text().splitlines())}
    assert [(note["by"], note["decision"], note["note"]) for note in rows[1]["review"]["notes"]] == [
        ("charlie", "annotated", "Asked about =SUM(A1)"), ("charlie", "escalated", "HR should look"),
        ("erin", "reviewed", "")]
    assert rows[2]["review"] == {"state": "unreviewed", "reviewer": "", "notes": []}
    plain = [json.loads(line) for line in (tmp_path / "plain.jsonl").read_text().splitlines()]
    assert plain[0]["review"]["state"] == "reviewed"
    assert [note["note"] for note in plain[0]["review"]["notes"]] == [None, None, None]  # sealed: left out
    assert "opened" not in plain[0]


@pytest.mark.django_db
def test_export_refuses_a_bad_date():
    with pytest.raises(Exception, match=r"--since '24/11/2026' is not a date: write it as YYYY-MM-DD."):
        call_command("audit", "export", "--format", "jsonl", "--since", "24/11/2026")


@pytest.mark.django_db
def test_an_evidence_bundle_verifies_offline_and_fails_after_one_byte_changes(tmp_path):
    for n in range(1, 8):
        record_trace(n)
    bundle = evidence_bundle(LedgerEntry.objects.get(seq=5))
    key = public_key_bytes().hex()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(bundle))
    bad.write_text(json.dumps(bundle).replace("Answer 5 [1].", "Answer 5 [2]."))

    holds = run_verifier(good, key)
    fails = run_verifier(bad, key)

    assert holds.returncode == 0, holds.stderr
    assert holds.stdout.startswith("Holds: entry #5 (answer.answered, ")
    assert fails.returncode == 1
    assert fails.stderr.strip() == "Entry #5: the disclosed “answer” is not the value the entry committed to."
    assert bundle["checkpoint"]["size"] == 7 and len(bundle["inclusion_proof"]) == 3


@pytest.mark.django_db
def test_the_offline_verifier_catches_each_kind_of_change(tmp_path):
    for n in range(1, 4):
        record_trace(n)
    bundle = evidence_bundle(LedgerEntry.objects.get(seq=2))
    key = public_key_bytes().hex()
    changes = {
        "the entry": lambda b: b["entry"].__setitem__("actor_name", "mallory"),
        "a payload": lambda b: b["sealed_payloads"].__setitem__("answer", base64.b64encode(b"forged").decode()),
        "the proof": lambda b: b.__setitem__("leaf_index", 0),
        "the checkpoint": lambda b: b["checkpoint"].__setitem__("size", 2),
    }
    for what, change in changes.items():
        tampered = json.loads(json.dumps(bundle))
        change(tampered)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(tampered))
        assert run_verifier(path, key).returncode == 1, what
    wrong_key = run_verifier(write_json(tmp_path / "b.json", bundle), "11" * 32)
    assert wrong_key.returncode == 1
    assert "signature does not hold" in wrong_key.stderr


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path


def run_verifier(bundle: Path, public_key: str) -> subprocess.CompletedProcess:
    # A separate process with no Django settings: the script must stand on its own.
    return subprocess.run([sys.executable, str(REPO / "tools" / "verify_evidence.py"), str(bundle), "--public-key", public_key],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_two_writers_never_extend_the_same_entry():
    """Appends racing from two threads are serialised by the head lock: no gap, no fork."""
    import threading

    errors = []

    def write(n):
        try:
            for i in range(10):
                record_event("test.race", None, ("test", f"{n}-{i}"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == list(range(1, 21))
    assert verify_ledger().is_intact


def test_canonical_json_is_stable_and_refuses_nan():
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"score": float("nan")})


@pytest.mark.django_db
def test_entry_numbers_are_unique_even_if_the_head_is_lost():
    record_trace(1)
    raw_sql("DELETE FROM audit_ledgerhead")

    with pytest.raises(IntegrityError):
        record_trace(2)


@pytest.mark.django_db
def test_the_periodic_checkpoint_signs_only_when_the_ledger_grew(checkpoint_file):
    from appliance.audit.tasks import write_checkpoint as periodic_checkpoint

    record_trace(1)
    assert periodic_checkpoint() == 1
    assert periodic_checkpoint() is None
    record_trace(2)
    assert periodic_checkpoint() == 2
    assert len(checkpoint_file.read_text().splitlines()) == 2
