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
