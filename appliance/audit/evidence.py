"""Evidence bundles and exports: the ledger as files an officer hands to a regulator.

An evidence bundle is one answer's entry with what proves it is in the signed ledger, checkable
offline by tools/verify_evidence.py with nothing but the appliance's public key:

    {"format": "appliance-evidence/1",
     "entry": {...the entry's body...}, "entry_hash": "<hex>",
     "disclosed": {field: {"value": ..., "salt": "<hex>"}},   # the sealed fields, opened
     "sealed_payloads": {field: "<base64 ciphertext>"},
     "inclusion_proof": ["<hex>", ...], "leaf_index": seq - 1,
     "checkpoint": {...signed checkpoint...}, "public_key": "<hex>"}

The verifier recomputes the entry hash from the body, each disclosed value's commitment from its
salt, each ciphertext's digest, the Merkle path to the checkpoint's root, and the signature.
"""
import base64
import csv
import io
import json
from collections.abc import Iterator

from appliance.audit import merkle
from appliance.audit.chain import leaf_of
from appliance.audit.checkpoints import public_key_bytes, read_checkpoints, write_checkpoint
from appliance.audit.models import LedgerEntry
from appliance.audit.reading import unsealed
from appliance.audit.recording import body_of
from appliance.audit.sealing import ledger_key
from appliance.errors import ApplianceError

FORMAT = "appliance-evidence/1"


class EvidenceUnavailable(ApplianceError):
    code = "evidence_unavailable"
    status = 404


def evidence_bundle(entry: LedgerEntry) -> dict:
    """ENTRY's evidence bundle, against the first checkpoint that covers it (one is signed now
    if none does yet). Raises SealBroken if a sealed field does not open."""
    checkpoint = covering_checkpoint(entry.seq)
    leaves = [leaf_of(h) for h in LedgerEntry.objects.filter(seq__lte=checkpoint.size).order_by("seq")
              .values_list("entry_hash", flat=True)]
    key = ledger_key()
    payloads = {payload.field: bytes(payload.ciphertext) for payload in entry.payloads.all()}
    disclosed = {}
    for field, digest in entry.sealed.items():
        if field in payloads:
            value, salt = key.open_with_salt(entry.seq, field, payloads[field], digest)
            disclosed[field] = {"value": value, "salt": salt.hex()}
    return {
        "format": FORMAT,
        "entry": body_of(entry),
        "entry_hash": entry.entry_hash,
        "disclosed": disclosed,
        "sealed_payloads": {field: base64.b64encode(data).decode() for field, data in payloads.items()},
        "leaf_index": entry.seq - 1,
        "inclusion_proof": [node.hex() for node in merkle.inclusion_proof(entry.seq - 1, leaves)],
        "checkpoint": checkpoint.as_dict(),
        "public_key": public_key_bytes().hex(),
    }


def covering_checkpoint(seq: int):
    checkpoints, _problems = read_checkpoints()
    covering = [checkpoint for checkpoint in checkpoints if checkpoint.size >= seq]
    if covering:
        return min(covering, key=lambda checkpoint: checkpoint.size)
    checkpoint = write_checkpoint()
    if checkpoint.size < seq:
        raise EvidenceUnavailable(f"Entry #{seq} is not in the ledger's signed history yet.")
    return checkpoint


def exported_entries(entries, *, with_sealed: bool) -> Iterator[dict]:
    """Each entry as its body and hash (enough to re-verify the chain), with its sealed fields
    opened when WITH_SEALED (None for a field destroyed by retention)."""
    key = ledger_key() if with_sealed else None
    for entry in entries.prefetch_related("labels", "payloads") if with_sealed else entries.prefetch_related("labels"):
        row = body_of(entry) | {"entry_hash": entry.entry_hash, "mac": entry.mac}
        if with_sealed:
            row["opened"] = unsealed(entry, key)
        yield row


def as_jsonl(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


CSV_COLUMNS = ("seq", "at", "actor_name", "action", "target_type", "target_id", "route", "perimeter", "model",
               "entity_types", "collections", "question", "answer", "details", "entry_hash")


# The console's export adds an answer's review (review.with_reviews) in these columns.
REVIEW_COLUMNS = ("review_state", "reviewer", "review_notes")


def as_csv(rows: Iterator[dict], columns: tuple[str, ...] = CSV_COLUMNS) -> Iterator[str]:
    """One line per entry; the answer trace's main fields (and its review, when a row carries
    one) get columns of their own."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        details, opened = row["details"], row.get("opened") or {}
        route = details.get("route") or {}
        review = row.get("review") or {}
        writer.writerow(row | {
            "review_state": review.get("state", ""), "reviewer": review.get("reviewer", ""),
            "review_notes": spreadsheet_safe("\n".join(
                f"#{note['seq']} {note['at'][:19].replace('T', ' ')} {note['by']}, {note['decision']}"
                + (f": {note['note']}" if note["note"] else "") for note in review.get("notes", []))),
            "route": route.get("name", ""), "perimeter": route.get("perimeter", ""),
            "model": (details.get("model") or {}).get("name", ""),
            "entity_types": " ".join(f["type"] for f in (details.get("verdict") or {}).get("findings", [])),
            "collections": " | ".join(details.get("collections") or []),
            "question": spreadsheet_safe(opened.get("question")), "answer": spreadsheet_safe(opened.get("answer")),
            "details": json.dumps(details, ensure_ascii=False, sort_keys=True),
        })
        yield buffer.getvalue()


def spreadsheet_safe(value) -> str:
    """VALUE for a CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
