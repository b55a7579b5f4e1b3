"""How a ledger entry is hashed: canonical JSON, the chain, and the Merkle leaf.

Plain Python with no Django import, so that tools/verify_evidence.py can use it on a machine
that has only this file, merkle.py and the `cryptography` package.

- An entry's body is every stored column of its row but its own hash: sequence number, time,
  actor, action, target, details, the digests of its sealed (encrypted) fields, its labels,
  and the hash of the entry before it.
- Canonical JSON: keys sorted, no spaces, UTF-8, no NaN. Two machines that read the same body
  produce the same bytes, so they compute the same hash.
- entry hash = sha256(canonical JSON of the body). Because the body holds the previous entry's
  hash, changing, removing, inserting or reordering one entry breaks every link after it.
- Sealed fields enter the body as {"ciphertext_sha256", "commitment", "key_id"}: the hash of the
  stored ciphertext (so a changed byte of it is caught without the key) and a salted hash of the
  plaintext (so, with the key, the decrypted value can be proven to be the one committed to).
  Destroying a ciphertext at the end of retention leaves the body, and so the chain, intact.
- The Merkle leaf of an entry is RFC 6962's leaf hash of its 32-byte entry hash.
- An entry's MAC is HMAC-SHA256 of its entry hash under a key kept outside the database
  (settings.AUDIT_MAC_KEY). The hash chain has no secret: anyone who can write the database can
  recompute it. The MAC is what someone without the key cannot produce, so an entry edited or
  appended with the database alone does not verify.
- Entries written before MACs existed have neither a MAC nor labels in their body: their hash
  is checked, and verification says they were written before MACs (verification.py).
"""
import hashlib
import hmac
import json

from appliance.audit import merkle

GENESIS = "0" * 64  # the "previous hash" of entry 1


def canonical_json(value) -> bytes:
    """VALUE as canonical JSON bytes. Raises ValueError for NaN/infinity or a non-JSON type."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def entry_hash(body: dict) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def leaf_of(entry_hash_hex: str) -> bytes:
    return merkle.leaf_hash(bytes.fromhex(entry_hash_hex))


def commitment(salt: bytes, plaintext: bytes) -> str:
    """What the body holds for a sealed value: sha256(salt || canonical JSON of the value). The
    salt is random and sealed with the value, so a short value (a yes/no answer, a name) cannot be
    guessed from its commitment."""
    return hashlib.sha256(salt + plaintext).hexdigest()


def ciphertext_digest(ciphertext: bytes) -> str:
    return hashlib.sha256(ciphertext).hexdigest()


def entry_mac(key: bytes, entry_hash_hex: str) -> str:
    """The MAC of the entry whose hash is ENTRY_HASH_HEX, hex. The prefix keeps this key's MACs
    apart from anything else it might ever authenticate."""
    return hmac.new(key, b"appliance-ledger-entry:" + entry_hash_hex.encode("ascii"), hashlib.sha256).hexdigest()


def mac_holds(key: bytes, entry_hash_hex: str, mac: str) -> bool:
    return hmac.compare_digest(entry_mac(key, entry_hash_hex), mac or "")


def labels_body(pairs) -> dict[str, list[str]]:
    """The labels part of a body from (kind, value) PAIRS: {kind: sorted values}. Sorted, so the
    order rows come back from the database in does not matter; duplicates kept, so a label row
    added behind the appliance's back changes the hash."""
    labels: dict[str, list[str]] = {}
    for kind, value in pairs:
        labels.setdefault(kind, []).append(value)
    return {kind: sorted(values) for kind, values in labels.items()}
