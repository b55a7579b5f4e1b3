"""Signed checkpoints: the ledger's size and Merkle root, signed with Ed25519 and appended as one
JSON line to settings.AUDIT_CHECKPOINT_FILE, outside the database.

A checkpoint lets anyone holding the public key check, without trusting the database, that the
first `size` entries are exactly the ones the appliance had when it signed: a rewritten history
gives another root, and a ledger cut behind the checkpoint is shorter than `size`. The worker
writes one every AUDIT_CHECKPOINT_MINUTES when the ledger grew; `manage.py audit checkpoint`
writes one now. Only appended to: the file is opened in append mode, flushed and fsynced.

    {"size": 1042, "root": "<hex>", "last_entry_hash": "<hex>", "at": "2026-11-24T10:00:00.000000Z",
     "key_id": "<hex>", "signature": "<hex>"}

The signature covers the canonical JSON of every other field.
"""
import hashlib
import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from appliance.audit.chain import canonical_json
from appliance.audit.merkle import MerkleFrontier
from appliance.audit.models import LedgerHead


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str
    last_entry_hash: str
    at: str
    key_id: str
    signature: str
    line: int = 0  # where it is in the file, 1-based (0: not read from a file)

    def signed_part(self) -> dict:
        return {"size": self.size, "root": self.root, "last_entry_hash": self.last_entry_hash, "at": self.at,
                "key_id": self.key_id}

    def as_dict(self) -> dict:
        return self.signed_part() | {"signature": self.signature}


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(settings.AUDIT_SIGNING_KEY)


def public_key_bytes(key: Ed25519PrivateKey | None = None) -> bytes:
    """The public half of KEY (default: the configured signing key), raw 32 bytes."""
    return (key or signing_key()).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def write_checkpoint(path: Path | None = None) -> Checkpoint:
    """Sign the ledger's current size and root and append them to the checkpoint file."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    head = LedgerHead.objects.filter(pk=1).first() or LedgerHead(size=0, last_hash="", frontier=[])
    root = MerkleFrontier.from_list(head.size, head.frontier).root().hex()
    key = signing_key()
    unsigned = Checkpoint(head.size, root, head.last_hash, now_utc(), key_id_of(public_key_bytes(key)), "")
    checkpoint = replace(unsigned, signature=key.sign(canonical_json(unsigned.signed_part())).hex())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return checkpoint


def latest_checkpoint_size(path: Path | None = None) -> int:
    """The size of the last checkpoint whose signature holds (0: none). Checks signatures from the
    end of the file only until one holds: the worker asks every few minutes, and the file grows
    by one line each time."""
    public_key = public_key_bytes()
    for _number, checkpoint in reversed(parsed_lines(path)):
        if checkpoint is not None and signature_holds(checkpoint, public_key):
            return checkpoint.size
    return 0


def read_checkpoints(path: Path | None = None, public_key: bytes | None = None) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints whose signature holds, and a sentence for each line that is not one."""
    public_key = public_key or public_key_bytes()
    checkpoints, problems = [], []
    for number, checkpoint in parsed_lines(path):
        if checkpoint is None:
            problems.append(f"Checkpoint file line {number} is not a checkpoint.")
        elif not signature_holds(checkpoint, public_key):
            problems.append(f"Checkpoint file line {number} (size {checkpoint.size}) has a signature that does not hold.")
        else:
            checkpoints.append(checkpoint)
    return checkpoints, problems


def parsed_lines(path: Path | None = None) -> list[tuple[int, Checkpoint | None]]:
    """(line number, checkpoint) for each non-blank line of the checkpoint file; the checkpoint is
    None for a line that is not one."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return []
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                lines.append((number, Checkpoint(**json.loads(line), line=number)))
            except (ValueError, TypeError):
                lines.append((number, None))
    return lines


def signature_holds(checkpoint: Checkpoint, public_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(checkpoint.signature), canonical_json(checkpoint.signed_part()),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
