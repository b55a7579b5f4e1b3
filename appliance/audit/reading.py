"""Reading the ledger: the sealed fields of an entry, opened with the ledger key.

Only the compliance console, `manage.py audit export` and tests read sealed fields; the console
and the export record each read as a ledger entry of its own (see appliance/web/ledger_views.py).
"""
from appliance.audit.models import LedgerEntry
from appliance.audit.sealing import LedgerKey, ledger_key


def unsealed(entry: LedgerEntry, key: LedgerKey | None = None) -> dict:
    """{field: value} for every sealed field of ENTRY; None for a field whose payload was destroyed
    at the end of retention. Raises SealBroken for a payload that does not open or does not match
    its commitment."""
    key = key or ledger_key()
    payloads = {payload.field: bytes(payload.ciphertext) for payload in entry.payloads.all()}
    return {
        field: key.open(entry.seq, field, payloads[field], digest) if field in payloads else None
        for field, digest in entry.sealed.items()
    }
