"""Sealing the sensitive fields of a ledger entry: the question, the prompt, the answer and the
passage text are encrypted at rest; everything else in an entry is plain.

Each field is sealed on its own with AES-256-GCM (the `cryptography` package) under
settings.AUDIT_ENCRYPTION_KEY:

    stored ciphertext = nonce (12 bytes) || AES-GCM(key, nonce, salt (16 bytes) || canonical JSON of the value,
                                                    associated data = "appliance-ledger:<seq>:<field>")

The associated data binds a ciphertext to its entry and field: moved to another entry, it no
longer opens. The entry's body commits to the ciphertext (its sha256) and to the plaintext
(chain.commitment: the salted sha256), see chain.py.
"""
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.audit.chain import canonical_json, ciphertext_digest, commitment
from appliance.errors import ApplianceError

NONCE_BYTES = 12
SALT_BYTES = 16


class SealBroken(ApplianceError):
    """A sealed field does not open with the key, or does not match its commitment."""

    code = "ledger_seal_broken"


@dataclass(frozen=True)
class Sealed:
    field: str
    ciphertext: bytes
    digest: dict  # what the entry's body holds: ciphertext_sha256, commitment, key_id


class LedgerKey:
    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) != 32:
            raise ValueError("a ledger key is 32 bytes")
        self._aead = AESGCM(key)
        # Names the key without revealing it, so an entry says which key sealed it.
        self.key_id = hashlib.sha256(b"appliance-ledger-key:" + key).hexdigest()[:16]

    def seal(self, seq: int, field: str, value) -> Sealed:
        salt, plaintext = os.urandom(SALT_BYTES), canonical_json(value)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = nonce + self._aead.encrypt(nonce, salt + plaintext, associated_data(seq, field))
        digest = {"ciphertext_sha256": ciphertext_digest(ciphertext), "commitment": commitment(salt, plaintext),
                  "key_id": self.key_id}
        return Sealed(field, ciphertext, digest)

    def open(self, seq: int, field: str, ciphertext: bytes, digest: dict):
        """The value sealed in CIPHERTEXT. Raises SealBroken when it does not open with this key or
        does not match the commitment DIGEST holds."""
        return self.open_with_salt(seq, field, ciphertext, digest)[0]

    def open_with_salt(self, seq: int, field: str, ciphertext: bytes, digest: dict) -> tuple[object, bytes]:
        """The sealed value and its commitment's salt: with both, anyone can check the commitment
        (an evidence bundle discloses them). Raises SealBroken."""
        if digest.get("key_id") != self.key_id:
            raise SealBroken(f"Entry #{seq}: its field “{field}” was sealed with another key ({digest.get('key_id')}).")
        try:
            opened = self._aead.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], associated_data(seq, field))
        except InvalidTag:
            raise SealBroken(f"Entry #{seq}: its field “{field}” does not open with the ledger key.") from None
        salt, plaintext = opened[:SALT_BYTES], opened[SALT_BYTES:]
        if commitment(salt, plaintext) != digest.get("commitment"):
            raise SealBroken(f"Entry #{seq}: its field “{field}” does not match its commitment.")
        return json.loads(plaintext), salt


def associated_data(seq: int, field: str) -> bytes:
    return f"appliance-ledger:{seq}:{field}".encode()


def ledger_key() -> LedgerKey:
    from django.conf import settings

    return LedgerKey(settings.AUDIT_ENCRYPTION_KEY)
