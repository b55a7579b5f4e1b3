"""The one way anything writes to the audit ledger.

- record_event(): every audited change (upload, erasure, grant, policy, model registry, role),
  every failed login and denied access, every read and export of the ledger. Callers pass ids,
  counts and labels: never document text, question text or PII values.
- record_answer_trace(): every answer, refusal and block, with everything needed to reproduce and
  justify it. Its question, prompt, answer and passage text are sealed (sealing.py).

Both append one entry to the hash chain (chain.py) inside the caller's transaction: the change
and its entry commit together or not at all. Appending locks the ledger's head row, so entries
are numbered without gaps in the order their transactions commit.
"""
import json
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appliance.audit.chain import GENESIS, canonical_json, entry_hash, entry_mac, labels_body, leaf_of
from appliance.audit.merkle import MerkleFrontier
from appliance.audit.models import EntryLabel, LedgerEntry, LedgerHead, SealedPayload
from appliance.audit.sealing import ledger_key


def record_event(action: str, actor=None, target=None, *, sealed: dict | None = None,
                 labels: dict[str, list[str]] | None = None, **details) -> LedgerEntry:
    """Append an entry; call it inside the transaction that makes the change it records. TARGET
    is a model instance, or a (type, id) pair. SEALED values are encrypted; LABELS index the
    entry for the compliance console's filters ({kind: [values]})."""
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type = target.__class__.__name__.lower() if target is not None else ""
        target_id = str(target.pk) if target is not None else ""
    signed_in = actor is not None and actor.is_authenticated
    return append_entry(
        action=action, actor_id=actor.pk if signed_in else None, actor_name=actor.get_username() if signed_in else "",
        target_type=target_type, target_id=str(target_id), details=details, sealed=sealed or {}, labels=labels or {},
    )


def append_entry(*, action: str, actor_id, actor_name: str, target_type: str, target_id: str, details: dict,
                 sealed: dict, labels: dict[str, list[str]]) -> LedgerEntry:
    # The stored JSON is what verification will read back: hash that, not the Python objects
    # (a tuple is stored as a list, a number key as a string).
    details = json.loads(canonical_json(details))
    label_rows = [(kind, str(value)[:200]) for kind, values in labels.items() for value in dict.fromkeys(values) if value]
    key = ledger_key()
    with transaction.atomic():
        head, _ = LedgerHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        seq = head.size + 1
        seals = [key.seal(seq, field, value) for field, value in sealed.items()]
        entry = LedgerEntry(
            seq=seq, at=timezone.now().replace(tzinfo=UTC), actor_id=actor_id, actor_name=actor_name, action=action,
            target_type=target_type, target_id=target_id, details=details,
            sealed={seal.field: seal.digest for seal in seals}, prev_hash=head.last_hash,
        )
        entry.entry_hash = entry_hash(entry_body(entry, labels_body(label_rows)))
        entry.mac = entry_mac(mac_key(), entry.entry_hash)
        entry.save(force_insert=True)
        SealedPayload.objects.bulk_create(SealedPayload(entry=entry, field=s.field, ciphertext=s.ciphertext) for s in seals)
        EntryLabel.objects.bulk_create(EntryLabel(entry=entry, kind=kind, value=value) for kind, value in label_rows)
        frontier = MerkleFrontier.from_list(head.size, head.frontier)
        frontier.append(leaf_of(entry.entry_hash))
        LedgerHead.objects.filter(pk=1).update(size=seq, last_hash=entry.entry_hash, frontier=frontier.to_list())
    return entry


def mac_key() -> bytes:
    return settings.AUDIT_MAC_KEY


def entry_body(entry, labels: dict[str, list[str]] | None) -> dict:
    """Everything an entry's hash covers (chain.py): every stored column but the hash and the MAC,
    and its LABELS (chain.labels_body). LABELS is None only for an entry written before MACs,
    whose body had no labels."""
    body = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "sealed": entry.sealed,
        "prev_hash": entry.prev_hash,
    }
    if labels is not None:
        body["labels"] = labels
    return body


def body_of(entry: LedgerEntry) -> dict:
    """The body of a stored ENTRY, its labels read from the database (prefetch "labels" when
    reading many)."""
    if not entry.mac:
        return entry_body(entry, None)
    return entry_body(entry, labels_body((label.kind, label.value) for label in entry.labels.all()))


def record_answer_trace(answer, user, question: str, collections, *, messages=None, raw: str = "", error: str = "") -> LedgerEntry:
    """The trace of one answer, refusal or block (action "answer.<action>", target the trace id; the
    outcome is a label: answered, quoted, not_found, refused or blocked)."""
    route = answer.route
    model = route.model if route else None
    checked = answer.checked
    evidence = answer.evidence
    details = {
        "outcome": answer.outcome,
        "collections": [collection.name for collection in collections],
        "verdict": answer.verdict.as_dict(),
        "route": route.as_dict() | {"sources": dict(route.sources)} if route else None,
        "model": {"name": model.name, "perimeter": model.perimeter, "sha256": model.sha256,
                  "quantization": model.quantization} if model else None,
        "passages": [
            {"n": p.number, "chunk_id": p.chunk_id, "document": p.document, "document_id": p.document_id,
             "version": p.version, "page": p.page, "section": p.section, "score": p.score, "sensitivity": p.sensitivity}
            for p in answer.passages
        ],
        "evidence": {
            "quotes": [{"n": q.passage, "start": q.start, "end": q.end, "score": q.score} for q in evidence.quotes],
            "answers_question": evidence.answers_question, "confidence": evidence.confidence,
            "features": evidence.features, "withheld_sentences": evidence.withheld,
        } if evidence else None,
        "citations": list(answer.cited),
        "why_quoted": list(answer.why_quoted),
        "output_checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in checked.checks] if checked else [],
        "error": error,
        "timings": answer.timings,
    }
    sealed = {
        "question": question,
        "prompt": [{"role": m.role, "content": m.content} for m in messages] if messages else None,
        "raw_answer": raw,
        "answer": answer.text,
        "passage_texts": {str(p.number): p.text for p in answer.passages},
    }
    labels = {
        "outcome": [answer.outcome],
        "collection": details["collections"],
        "entity": [finding["type"] for finding in details["verdict"]["findings"]],
        "route": [route.name] if route else [],
        "perimeter": [route.perimeter] if route and route.perimeter else [],
        "model": [model.name] if model else [],
    }
    return record_event(f"answer.{answer.action}", user, ("trace", answer.trace_id), sealed=sealed, labels=labels, **details)
