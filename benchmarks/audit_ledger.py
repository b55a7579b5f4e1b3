"""Audit ledger speed: append p95 (target <= 5 ms) and verifying 1,000,000 entries (target <= 60 s).

    .venv/bin/python benchmarks/audit_ledger.py [--appends 2000] [--entries 1000000] [--database-url URL]

Appends go through record_event() exactly as the appliance writes them, one transaction each:
nine in ten are plain events (an upload's details), one in ten an answer trace with its five
sealed fields (question, prompt, raw answer, answer, passage text: ~3 KB encrypted).

The million entries for verification are written in bulk with the same code that hashes and
seals a single entry (entry_body, entry_hash, LedgerKey.seal), chained in order: writing them one
transaction at a time would take most of an hour and measures nothing new. Then `verify_ledger()`
runs once without the key (the `audit verify` default) and reports its time. SQLite by default
(a fresh data dir); --database-url measures PostgreSQL.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    clear_ledger(connection)
    print(f"{connection.vendor}, {os.cpu_count()} cores\n")
    times = measure_appends(args.appends)
    print(f"append ({args.appends} entries, 1 in 10 an answer trace): p50 {percentile(times, 50):.2f} ms, "
          f"p95 {percentile(times, 95):.2f} ms, max {max(times):.2f} ms")
    started = time.perf_counter()
    bulk_entries(args.entries - args.appends)
    print(f"wrote {args.entries - args.appends} more entries in bulk in {time.perf_counter() - started:.0f} s")
    from appliance.audit.checkpoints import write_checkpoint
    from appliance.audit.verification import verify_ledger

    write_checkpoint()
    started = time.perf_counter()
    report = verify_ledger()
    elapsed = time.perf_counter() - started
    print(f"verify {report.entries} entries (no key): {elapsed:.1f} s, {report.entries / elapsed:,.0f} entries/s; "
          f"{report.summary}")
    return 0 if report.is_intact else 1


def clear_ledger(connection) -> None:
    from tests.append_only import triggers_set_aside

    with triggers_set_aside(connection), connection.cursor() as cursor:
        for table in ("audit_entrylabel", "audit_sealedpayload", "audit_ledgerentry", "audit_ledgerhead"):
            cursor.execute(f"DELETE FROM {table}")


TRACE = {
    "collections": ["Contracts"], "route": {"name": "local-specialist", "perimeter": "internal", "reason": "contains PII"},
    "verdict": {"action": "sensitive", "findings": [{"detector": "pii", "type": "PERSON", "start": 4, "end": 15,
                                                     "score": 0.85, "action": "sensitive", "reading": "original"}],
                "policy_version": 1},
    "model": {"name": "SmolLM2-135M-Instruct Q4_1", "perimeter": "internal", "sha256": "ab" * 32, "quantization": "Q4_1"},
    "passages": [{"n": n, "chunk_id": f"{n:064x}", "document_id": n, "version": 1, "score": 0.5} for n in range(1, 6)],
    "timings": {"screen_ms": 15.0, "retrieve_ms": 6.0, "generate_ms": 900.0},
}
SEALED = {"question": "Does Maria Keller's contract renew in March?" * 2, "prompt": [{"role": "user", "content": "x" * 1500}],
          "raw_answer": "It renews on 1 March [1]." * 4, "answer": "It renews on 1 March [1]." * 4,
          "passage_texts": {str(n): "Passage text. " * 20 for n in range(1, 6)}}


def measure_appends(count: int) -> list[float]:
    from appliance.audit.recording import record_event

    times = []
    for n in range(count):
        started = time.perf_counter()
        if n % 10 == 0:
            record_event("answer.answered", None, ("trace", f"{n:032x}"), sealed=SEALED,
                         labels={"perimeter": ["internal"], "collection": ["Contracts"]}, **TRACE)
        else:
            record_event("document.uploaded", None, ("document", n), collection="Contracts", filename="a.pdf", version=1,
                         sha256="cd" * 32, size_bytes=123456, status="queued")
        times.append((time.perf_counter() - started) * 1000)
    return times


def bulk_entries(count: int, batch: int = 5000) -> None:
    """COUNT more entries, chained after the current head, written in batches."""
    from django.db import transaction
    from django.utils import timezone

    from appliance.audit.chain import entry_hash, entry_mac, leaf_of
    from appliance.audit.merkle import MerkleFrontier
    from appliance.audit.models import LedgerEntry, LedgerHead, SealedPayload
    from appliance.audit.recording import entry_body, mac_key
    from appliance.audit.sealing import ledger_key

    key = ledger_key()
    head = LedgerHead.objects.get(pk=1)
    frontier = MerkleFrontier.from_list(head.size, head.frontier)
    seq, prev = head.size, head.last_hash
    while count > 0:
        entries, seals = [], []
        for _ in range(min(batch, count)):
            seq += 1
            sealed = [key.seal(seq, field, value) for field, value in SEALED.items()] if seq % 10 == 0 else []
            entry = LedgerEntry(seq=seq, at=timezone.now(), actor_id=None, actor_name="", action="document.uploaded",
                                target_type="document", target_id=str(seq), details={"collection": "Contracts", "version": 1},
                                sealed={s.field: s.digest for s in sealed}, prev_hash=prev)
            entry.entry_hash = prev = entry_hash(entry_body(entry, {}))  # no label rows
            entry.mac = entry_mac(mac_key(), entry.entry_hash)
            frontier.append(leaf_of(entry.entry_hash))
            entries.append(entry)
            seals.append(sealed)
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(entries)
            SealedPayload.objects.bulk_create(SealedPayload(entry=entry, field=s.field, ciphertext=s.ciphertext)
                                              for entry, sealed in zip(entries, seals) for s in sealed)
            LedgerHead.objects.filter(pk=1).update(size=seq, last_hash=prev, frontier=frontier.to_list())
        count -= len(entries)


def percentile(values, q):
    return statistics.quantiles(values, n=100)[q - 1]


if __name__ == "__main__":
    sys.exit(main())
