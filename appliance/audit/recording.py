"""The one way anything writes to the audit trail. Callers pass ids, counts and labels:
never document text, question text or PII values."""
from appliance.audit.models import Event


def record_event(action: str, actor=None, target=None, **details) -> Event:
    """Append an event; call it inside the transaction that makes the change it records."""
    return Event.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        target_type=target.__class__.__name__.lower() if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details,
    )


def record_answer_trace(answer, user, question: str, collections, *, messages=None, raw: str = "", partial: str = "",
                        error: str = "") -> Event:
    """The trace of one answer, refusal or block: everything needed to reproduce and justify it.

    Unlike record_event, this holds the question, the prompt and the answer: the trace must. The
    audit issue moves it into the hash-chained ledger with those fields encrypted at rest; until
    then it is an Event with action "answer.<outcome>" whose target is the trace id."""
    route = answer.route
    model = route.model if route else None
    details = {
        "question": question,
        "collections": [collection.name for collection in collections],
        "verdict": answer.verdict.as_dict(),
        "route": route.as_dict() | {"sources": dict(route.sources)} if route else None,
        "model": {"name": model.name, "perimeter": model.perimeter, "sha256": model.sha256,
                  "quantization": model.quantization} if model else None,
        "passages": [
            {"n": p.number, "chunk_id": p.chunk_id, "document_id": p.document_id, "version": p.version,
             "score": p.score, "sensitivity": p.sensitivity}
            for p in answer.passages
        ],
        "prompt": [{"role": m.role, "content": m.content} for m in messages] if messages else None,
        "raw_answer": raw or partial,
        "answer": answer.text,
        "citations": list(answer.checked.cited) if answer.checked else [],
        "output_checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in answer.checked.checks]
        if answer.checked else [],
        "error": error,
        "timings": answer.timings,
    }
    return Event.objects.create(
        actor=user if user is not None and user.is_authenticated else None,
        actor_name=user.get_username() if user is not None and user.is_authenticated else "",
        action=f"answer.{answer.action}", target_type="trace", target_id=answer.trace_id, details=details,
    )
