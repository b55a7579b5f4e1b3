"""Property tests: whoever gets past the triggers (raw SQL, as a database superuser could) and
modifies, deletes, inserts or reorders a random entry, or cuts the tail, is caught by
`manage.py audit verify`, which exits 1 naming the first bad entry."""
import io
import json
from contextlib import redirect_stderr

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from appliance.audit.checkpoints import write_checkpoint
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import record_event
from tests.append_only import triggers_set_aside

pytestmark = [pytest.mark.services]

ENTRIES = 12
EXAMPLES = hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def ledger(db, settings, tmp_path):
    """Twelve entries, the first ten covered by a signed checkpoint; some with sealed fields."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
    for n in range(1, ENTRIES + 1):
        sealed = {"question": f"Question {n}?", "answer": f"Answer {n}."} if n % 2 else None
        record_event("answer.answered" if n % 2 else "document.uploaded", None, ("trace", f"t{n}"), sealed=sealed, n=n)
        if n == 10:
            write_checkpoint()


def verify() -> tuple[int, str]:
    """`manage.py audit verify`'s exit status and first line of complaint."""
    err = io.StringIO()
    with redirect_stderr(err):
        try:
            call_command("audit", "verify", stderr=err)
        except SystemExit as exited:
            return exited.code, err.getvalue().splitlines()[0]
    return 0, ""


def tampered(sql_statements):
    """Run SQL_STATEMENTS behind the triggers, inside a savepoint undone afterwards."""

    class Tampering:
        def __enter__(self):
            self.savepoint = transaction.savepoint()
            with triggers_set_aside(connection), connection.cursor() as cursor:
                for sql, params in sql_statements:
                    cursor.execute(sql, params)

        def __exit__(self, *exc):
            transaction.savepoint_rollback(self.savepoint)

    return Tampering()


def row_id(seq: int) -> int:
    return LedgerEntry.objects.get(seq=seq).pk


def test_the_untouched_ledger_verifies(ledger):
    assert verify() == (0, "")


@EXAMPLES
@given(seq=st.integers(1, ENTRIES), column=st.sampled_from(["actor_name", "action", "target_id", "details", "at", "sealed"]))
def test_it_names_a_modified_entry(ledger, seq, column):
    values = {"actor_name": "mallory", "action": "answer.refused", "target_id": "other", "details": json.dumps({"n": 99}),
              "at": "2020-01-01 00:00:00", "sealed": json.dumps({"question": {"commitment": "00"}})}
    with tampered([(f"UPDATE audit_ledgerentry SET {column} = %s WHERE seq = %s", (values[column], seq))]):
        assert verify() == (1, f"Entry #{seq} was modified or inserted: its contents do not match its hash.")


@EXAMPLES
@given(seq=st.sampled_from([n for n in range(1, ENTRIES + 1) if n % 2]), field=st.sampled_from(["question", "answer"]),
       byte=st.integers(0, 40))
def test_it_names_an_entry_whose_sealed_field_changed_by_one_byte(ledger, seq, field, byte):
    from appliance.audit.models import SealedPayload

    payload = SealedPayload.objects.get(entry__seq=seq, field=field)
    data = bytearray(payload.ciphertext)
    data[byte % len(data)] ^= 0x01
    with tampered([("UPDATE audit_sealedpayload SET ciphertext = %s WHERE id = %s", (bytes(data), payload.pk))]):
        assert verify() == (1, f"Entry #{seq}: its sealed field “{field}” was modified.")


def deleting(seq: int) -> list:
    entry = row_id(seq)
    return [("DELETE FROM audit_sealedpayload WHERE entry_id = %s", (entry,)),
            ("DELETE FROM audit_entrylabel WHERE entry_id = %s", (entry,)),
            ("DELETE FROM audit_ledgerentry WHERE id = %s", (entry,))]


@EXAMPLES
@given(seq=st.integers(1, ENTRIES - 1))
def test_it_names_a_deleted_entry(ledger, seq):
    with tampered(deleting(seq)):
        assert verify() == (1, f"Entry #{seq} is missing: the next entry is #{seq + 1}.")


@EXAMPLES
@given(seq=st.integers(1, ENTRIES))
def test_it_names_an_inserted_entry(ledger, seq):
    # Make room at SEQ (every later entry moves up one), then insert a forged entry there whose
    # hash is right for its own body, carrying the MAC of the entry it copies: the MAC, which
    # needs a key the database does not hold, and the links give it away.
    from appliance.audit.chain import entry_hash
    from appliance.audit.recording import body_of

    forged = LedgerEntry.objects.get(seq=seq)
    forged.seq, forged.actor_name, forged.sealed = seq, "mallory", {}
    forged.entry_hash = entry_hash(body_of(forged))
    statements = [("UPDATE audit_ledgerentry SET seq = seq + 1000 WHERE seq >= %s", (seq,)),
                  ("UPDATE audit_ledgerentry SET seq = seq - 999 WHERE seq >= 1000", ()),
                  ("INSERT INTO audit_ledgerentry (seq, at, actor_id, actor_name, action, target_type, target_id, details, "
                   "sealed, prev_hash, entry_hash, mac) VALUES (%s, %s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                   (seq, forged.at, forged.actor_name, forged.action, forged.target_type, forged.target_id,
                    json.dumps(forged.details), json.dumps(forged.sealed), forged.prev_hash, forged.entry_hash, forged.mac))]
    with tampered(statements):
        assert verify() == (1, f"Entry #{seq} has a MAC that does not hold: it was written or rewritten without the "
                               "ledger's MAC key.")


@EXAMPLES
@given(pair=st.tuples(st.integers(1, ENTRIES), st.integers(1, ENTRIES)).filter(lambda p: p[0] < p[1]))
def test_it_names_the_first_of_two_reordered_entries(ledger, pair):
    first, second = pair
    statements = [("UPDATE audit_ledgerentry SET seq = 9999 WHERE seq = %s", (first,)),
                  ("UPDATE audit_ledgerentry SET seq = %s WHERE seq = %s", (first, second)),
                  ("UPDATE audit_ledgerentry SET seq = %s WHERE seq = 9999", (second,))]
    with tampered(statements):
        code, message = verify()
        assert code == 1
        assert message.startswith(f"Entry #{first} ")


@EXAMPLES
@given(keep=st.integers(0, 9))
def test_it_catches_a_tail_cut_behind_the_checkpoint(ledger, keep):
    statements = [statement for seq in range(ENTRIES, keep, -1) for statement in deleting(seq)]
    statements.append(("UPDATE audit_ledgerhead SET size = %s", (keep,)))
    with tampered(statements):
        code, message = verify()
        assert code == 1
        assert message.startswith(f"The ledger ends at entry #{keep}, but the checkpoint signed ")
        assert message.endswith(f"covers 10 entries: entries #{keep + 1} to #10 were removed.")
