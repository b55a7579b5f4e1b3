#!/usr/bin/env python3
"""Verify an evidence bundle of the appliance's audit ledger offline, without the appliance.

    python tools/verify_evidence.py BUNDLE.json --public-key HEX_OR_FILE

A bundle (`manage.py audit evidence TRACE_ID`, or the console's "Evidence bundle" button) holds
one ledger entry, the sealed fields it discloses, a Merkle inclusion proof and a signed
checkpoint. This script checks, and says which check failed:

1. the entry's hash is the hash of its body (chain.py: canonical JSON, SHA-256);
2. each disclosed value (question, prompt, answer, passages) matches the commitment in the body;
3. each sealed payload included hashes to the digest in the body;
4. the entry's leaf is in the Merkle tree whose root the checkpoint holds (RFC 6962 / RFC 9162);
5. the checkpoint's Ed25519 signature holds under the public key.

Pass the appliance's public key (`manage.py audit public-key`, published by the operator) with
--public-key: the key inside the bundle proves nothing on its own, since whoever made the bundle
chose it. Needs Python 3.11+ and the `cryptography` package; reads appliance/audit/chain.py and
merkle.py from this repository (plain Python, no Django).

Exit status: 0 when every check holds, 1 when one fails, 2 when the bundle cannot be read.
"""
import argparse
import base64
import importlib.util
import json
import sys
import types
from pathlib import Path

AUDIT_DIR = Path(__file__).resolve().parent.parent / "appliance" / "audit"
FORMAT = "appliance-evidence/1"


def load_ledger_modules():
    """chain.py and merkle.py, loaded from their files without importing the appliance (Django)."""
    for package in ("appliance", "appliance.audit"):
        sys.modules.setdefault(package, types.ModuleType(package))
    loaded = []
    for name in ("merkle", "chain"):
        spec = importlib.util.spec_from_file_location(f"appliance.audit.{name}", AUDIT_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        setattr(sys.modules["appliance.audit"], name, module)
        spec.loader.exec_module(module)
        loaded.append(module)
    return loaded


def verify_bundle(bundle: dict, public_key: bytes) -> list[str]:
    """The failed checks, each as a sentence; empty when the bundle holds."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    merkle, chain = load_ledger_modules()
    failures = []
    if bundle.get("format") != FORMAT:
        return [f"This is not an evidence bundle of format {FORMAT}."]
    body, seq = bundle["entry"], bundle["entry"]["seq"]
    if chain.entry_hash(body) != bundle["entry_hash"]:
        failures.append(f"Entry #{seq}: its body does not match its hash: the entry was changed.")
    for field, disclosed in bundle.get("disclosed", {}).items():
        digest = body["sealed"].get(field, {})
        salt = bytes.fromhex(disclosed["salt"])
        if chain.commitment(salt, chain.canonical_json(disclosed["value"])) != digest.get("commitment"):
            failures.append(f"Entry #{seq}: the disclosed “{field}” is not the value the entry committed to.")
    for field, encoded in bundle.get("sealed_payloads", {}).items():
        if chain.ciphertext_digest(base64.b64decode(encoded)) != body["sealed"].get(field, {}).get("ciphertext_sha256"):
            failures.append(f"Entry #{seq}: the sealed payload “{field}” is not the one the entry committed to.")
    checkpoint = bundle["checkpoint"]
    proof = [bytes.fromhex(node) for node in bundle["inclusion_proof"]]
    if not merkle.verify_inclusion(chain.leaf_of(bundle["entry_hash"]), bundle["leaf_index"], checkpoint["size"],
                                   proof, bytes.fromhex(checkpoint["root"])) or bundle["leaf_index"] != seq - 1:
        failures.append(f"Entry #{seq} is not proven to be in the ledger the checkpoint signed "
                        f"{checkpoint['at']} covers (the inclusion proof fails).")
    signed = {name: checkpoint[name] for name in ("size", "root", "last_entry_hash", "at", "key_id")}
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(bytes.fromhex(checkpoint["signature"]), chain.canonical_json(signed))
    except (InvalidSignature, ValueError):
        failures.append("The checkpoint's signature does not hold under the public key given.")
    return failures


def read_public_key(value: str) -> bytes:
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    key = bytes.fromhex(text)
    if len(key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes (64 hex digits)")
    return key


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", required=True, help="the appliance's public key: 64 hex digits, or a file holding them")
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
        public_key = read_public_key(args.public_key)
        failures = verify_bundle(bundle, public_key)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"Cannot read the bundle or key: {error}", file=sys.stderr)
        return 2
    if failures:
        for failure in failures:
            print(failure, file=sys.stderr)
        return 1
    body = bundle["entry"]
    print(f"Holds: entry #{body['seq']} ({body['action']}, {body['at']}) is in the ledger signed {bundle['checkpoint']['at']} "
          f"({bundle['checkpoint']['size']} entries); {len(bundle.get('disclosed', {}))} disclosed field(s) match.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
