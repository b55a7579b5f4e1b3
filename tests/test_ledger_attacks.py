"""Issue 14's ledger attacks, driven through the real commands: someone with write access to the
database (raw SQL past the append-only triggers, as a superuser could) but not to the data dir
that holds the keys. They rewrite, relabel and cut entries after the last checkpoint, then ask
`manage.py audit verify` and `manage.py audit checkpoint` what they make of it."""
import io
import json
from contextlib import redirect_stderr

import pytest
from django.core.management import call_command
from django.db import connection

from appliance.audit.chain import entry_hash, leaf_of
from appliance.audit.checkpoints import extends, last_checkpoint
from appliance.audit.merkle import MerkleFrontier, tree_root
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import body_of, record_event
from tests.append_only import triggers_set_aside

pytestmark = [pytest.mark.services]

MAC_BROKEN = "has a MAC that does not hold: it was written or rewritten without the ledger's MAC key."


@pytest.fixture
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


@pytest.fixture
def ledger(db, checkpoint_file):
    """Eight answer traces with labels; a signed checkpoint covers the first five."""
    for n in range(1, 9):
        record_event("answer.answered", None, ("trace", f"t{n}"), sealed={"question": f"Question {n}?"},
                     labels={"collection": ["HR cases"], "perimeter": ["internal"], "model": ["smollm2-135m"]}, n=n)
        if n == 5:
            assert run("checkpoint")[0] == 0


def run(*args) -> tuple[int, str, str]:
    """`manage.py audit ARGS`: exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        try:
            call_command("audit", *args, stdout=out, stderr=err)
        except SystemExit as exited:
            return exited.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def raw_sql(sql: str, params=()):
    with triggers_set_aside(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def rewrite_from(seq: int, **changes) -> None:
    """Change entry SEQ's columns and recompute its hash and every later link and hash, as
    anyone who has read chain.py can. The MACs cannot be recomputed without the key."""
    prev = LedgerEntry.objects.get(seq=seq - 1).entry_hash
    for entry in LedgerEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            for name, value in changes.items():
                setattr(entry, name, value)
        entry.prev_hash = prev
        prev = entry_hash(body_of(entry))
        raw_sql("UPDATE audit_ledgerentry SET actor_name = %s, details = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                (entry.actor_name, json.dumps(entry.details), entry.prev_hash, prev, entry.pk))
    raw_sql("UPDATE audit_ledgerhead SET last_hash = %s", (prev,))


def checkpoint_lines(checkpoint_file) -> list[dict]:
    return [json.loads(line) for line in checkpoint_file.read_text().splitlines()]


def test_it_says_intact_when_nobody_tampered(ledger):
    assert run("verify") == (0, "Intact: 8 entries, chain and 1 signed checkpoint(s) verified.\n", "")


def test_an_entry_rewritten_after_the_last_checkpoint_with_every_hash_recomputed_is_caught(ledger):
    rewrite_from(7, actor_name="mallory", details={"n": 99})

    code, _out, err = run("verify")

    assert code == 1
    assert err.splitlines() == [f"Entry #7 {MAC_BROKEN}", f"Entry #8 {MAC_BROKEN}"]


def test_an_entry_appended_without_the_key_is_caught(ledger):
    forged = LedgerEntry.objects.get(seq=8)
    forged.seq, forged.prev_hash, forged.details = 9, forged.entry_hash, {"n": 9}
    forged.entry_hash = entry_hash(body_of(forged))
    raw_sql("INSERT INTO audit_ledgerentry (seq, at, actor_id, actor_name, action, target_type, target_id, details, "
            "sealed, prev_hash, entry_hash, mac) VALUES (9, %s, NULL, '', 'answer.answered', 'trace', 't9', %s, '{}', %s, %s, NULL)",
            (forged.at, json.dumps(forged.details), forged.prev_hash, forged.entry_hash))

    code, _out, err = run("verify")

    assert code == 1
    assert err.splitlines()[0] == "Entry #9 has no MAC, but entries before it do: it was written without the ledger's MAC key."


@pytest.mark.parametrize("kind", ["collection", "perimeter", "model"])
def test_a_relabelled_entry_is_caught(ledger, kind):
    raw_sql("UPDATE audit_entrylabel SET value = 'Public' WHERE kind = %s AND entry_id = %s",
            (kind, LedgerEntry.objects.get(seq=6).pk))

    code, _out, err = run("verify")

    assert code == 1
    assert err.splitlines() == ["Entry #6 was modified or inserted: its contents do not match its hash."]


def test_a_relabelled_entry_with_its_hashes_recomputed_is_caught(ledger):
    raw_sql("UPDATE audit_entrylabel SET value = 'external' WHERE kind = 'perimeter' AND entry_id = %s",
            (LedgerEntry.objects.get(seq=6).pk,))
    rewrite_from(6)

    code, _out, err = run("verify")

    assert code == 1
    assert err.splitlines()[0] == f"Entry #6 {MAC_BROKEN}"


def test_no_checkpoint_is_signed_over_a_rewrite_and_the_alert_is_written_once(ledger, checkpoint_file):
    rewrite_from(7, actor_name="mallory")

    for _attempt in range(2):
        code, out, err = run("checkpoint")
        assert (code, out) == (1, "")
        assert err == f"No checkpoint was signed: the chain is broken. Entry #7 {MAC_BROKEN}\n"
    assert run("verify")[0] == 1

    assert [line["size"] for line in checkpoint_lines(checkpoint_file)] == [5]
    alert = LedgerEntry.objects.get(action="ledger.chain_broken")
    assert (alert.seq, alert.details) == (9, {"first_problem": f"Entry #7 {MAC_BROKEN}", "problems": 2, "entries": 8})


def test_a_checkpoint_signs_only_a_tree_that_extends_the_last_one(ledger, checkpoint_file):
    # The RFC 6962 consistency proof write_checkpoint builds from the entries before it signs.
    # Verification catches every rewrite of the stored entries first (the tests above); this is
    # the proof's own check, on the tree the entries give and on trees that do not extend it.
    previous = last_checkpoint()
    hashes = list(LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True))
    leaves = [leaf_of(h) for h in hashes]
    rewritten = leaves[:2] + [leaf_of("ab" * 32)] + leaves[3:]

    assert extends(previous, 8, tree_root(leaves), leaves)
    assert not extends(previous, 8, tree_root(rewritten), rewritten)
    assert not extends(previous, 4, tree_root(leaves[:4]), leaves[:4])
    assert [line["size"] for line in checkpoint_lines(checkpoint_file)] == [5]
    assert run("checkpoint")[0] == 0
    assert [line["size"] for line in checkpoint_lines(checkpoint_file)] == [5, 8]


def cut_tail_after(keep: int) -> None:
    """Delete every entry after KEEP and make the head agree, as a careful intruder would."""
    leaves = [leaf_of(h) for h in LedgerEntry.objects.filter(seq__lte=keep).order_by("seq").values_list("entry_hash", flat=True)]
    frontier = MerkleFrontier()
    for leaf in leaves:
        frontier.append(leaf)
    for table in ("audit_sealedpayload", "audit_entrylabel"):
        raw_sql(f"DELETE FROM {table} WHERE entry_id IN (SELECT id FROM audit_ledgerentry WHERE seq > %s)", (keep,))
    raw_sql("DELETE FROM audit_ledgerentry WHERE seq > %s", (keep,))
    raw_sql("UPDATE audit_ledgerhead SET size = %s, last_hash = %s, frontier = %s",
            (keep, LedgerEntry.objects.get(seq=keep).entry_hash, json.dumps(frontier.to_list())))


def test_the_residual_window_a_tail_cut_after_the_last_checkpoint_and_the_watchers_last_run(ledger):
    # Entries #6 to #8 were written after the last checkpoint (#5), and no verification has run
    # since they were: nothing outside the database remembers them. Cutting them off is the one
    # rewrite that still verifies (docs/audit.md, "What remains").
    cut_tail_after(5)

    assert run("verify") == (0, "Intact: 5 entries, chain and 1 signed checkpoint(s) verified.\n", "")


def test_a_tail_cut_after_the_watcher_saw_it_is_caught(ledger):
    assert run("verify")[0] == 0  # the watcher (or anyone) verified entries #1 to #8
    cut_tail_after(6)

    code, _out, err = run("verify")

    assert code == 1
    assert err.startswith("The ledger ends at entry #6, but entry #8 was verified at ")
    assert err.endswith(": entries #7 to #8 were removed.\n")


def test_a_tail_cut_behind_the_checkpoint_is_caught(ledger, checkpoint_file):
    cut_tail_after(4)

    code, _out, err = run("verify")

    assert code == 1
    assert err.splitlines()[0] == (f"The ledger ends at entry #4, but the checkpoint signed "
                                   f"{checkpoint_lines(checkpoint_file)[0]['at']} covers 5 entries: entries #5 to #5 were removed.")
