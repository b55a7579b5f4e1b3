"""Signed checkpoints: the ledger's size and Merkle root, signed with Ed25519 and appended as one
JSON line to settings.AUDIT_CHECKPOINT_FILE, outside the database.

A checkpoint lets anyone holding the public key check, without trusting the database, that the
first `size` entries are exactly the ones the appliance had when it signed: a rewritten history
gives another root, and a ledger cut behind the checkpoint is shorter than `size`. The worker
writes one every AUDIT_CHECKPOINT_MINUTES when the ledger grew; `manage.py audit checkpoint`
writes one now. Only appended to: the file is opened in append mode, flushed and fsynced.

Nothing is signed on trust. Before signing, write_checkpoint verifies the entries added since
the last verified checkpoint (hashes, links, MACs, labels: watching.watch_chain), recomputes
the Merkle root from the entries' hashes, and proves with an RFC 6962 consistency proof that the
new tree extends the previous checkpoint's. If any of it fails it signs nothing, records the
broken chain (one "ledger.chain_broken" entry) and raises CheckpointRefused.

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
from appliance.audit.merkle import EMPTY_ROOT, consistency_proof, tree_root, verify_consistency


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
    """Verify the ledger, prove it extends the last checkpoint, then sign its size and root and
    append them to the checkpoint file. Raises watching.CheckpointRefused, after recording the
    broken chain, when the entries do not verify or do not extend the last checkpoint."""
    # watching imports verification, which imports this module: imported here to break the cycle.
    from appliance.audit.verification import leaves_through
    from appliance.audit.watching import CheckpointRefused, raise_alarm, watch_chain

    report = watch_chain(checkpoint_file=path)
    if not report.is_intact:
        raise CheckpointRefused(f"No checkpoint was signed: the chain is broken. {report.problems[0].message}")
    size = report.entries
    leaves = leaves_through(size)
    root = tree_root(leaves)
    problem = ""
    if (previous := last_checkpoint(path)) is not None and not extends(previous, size, root, leaves):
        problem = (f"The ledger of {size} entries does not extend the checkpoint signed {previous.at} "
                   f"({previous.size} entries): its consistency proof fails.")
    elif len(leaves) != size or root.hex() != report.root:
        problem = (f"The hashes of entries #1 to #{size} read to sign them differ from the ones just verified: "
                   "entries were changed behind the verification.")
    if problem:
        raise_alarm(problem)
        raise CheckpointRefused(f"No checkpoint was signed: the chain is broken. {problem}")
    return sign_checkpoint(size, root.hex(), report.last_hash, path)


def extends(previous: Checkpoint, size: int, root: bytes, leaves: list[bytes]) -> bool:
    """Whether the tree of LEAVES (SIZE, ROOT) extends PREVIOUS, by an RFC 6962 consistency proof."""
    if previous.size == 0:
        return previous.root == EMPTY_ROOT.hex()
    if previous.size > size:
        return False
    proof = consistency_proof(previous.size, leaves)
    return verify_consistency(previous.size, size, bytes.fromhex(previous.root), root, proof)


def sign_checkpoint(size: int, root: str, last_entry_hash: str, path: Path | None = None) -> Checkpoint:
    """Sign SIZE, ROOT and LAST_ENTRY_HASH and append the checkpoint to the file. Checks nothing:
    write_checkpoint is the one caller."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    key = signing_key()
    unsigned = Checkpoint(size, root, last_entry_hash, now_utc(), key_id_of(public_key_bytes(key)), "")
    checkpoint = replace(unsigned, signature=key.sign(canonical_json(unsigned.signed_part())).hex())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return checkpoint


def last_checkpoint(path: Path | None = None) -> Checkpoint | None:
    """The last checkpoint in the file whose signature holds (None: none)."""
    public_key = public_key_bytes()
    for _number, checkpoint in reversed(parsed_lines(path)):
        if checkpoint is not None and signature_holds(checkpoint, public_key):
            return checkpoint
    return None


def latest_checkpoint_size(path: Path | None = None) -> int:
    """The size of the last checkpoint whose signature holds (0: none). Checks signatures from the
    end of the file only until one holds: the worker asks every few minutes, and the file grows
    by one line each time."""
    checkpoint = last_checkpoint(path)
    return checkpoint.size if checkpoint is not None else 0


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
