"""Creating collections and changing who may ask about them; every change is recorded."""
from django.db import transaction

from appliance.audit.recording import record_event
from ingest.models import Collection


def create_collection(name: str, classification: str, groups, redact_pii: bool, actor) -> Collection:
    with transaction.atomic():
        collection = Collection.objects.create(name=name, classification=classification, redact_pii=redact_pii)
        collection.groups.set(groups)
        record_event("collection.created", actor, collection, name=name, classification=classification,
                     redact_pii=redact_pii, groups=sorted(group.name for group in groups))
    return collection


def update_collection(collection: Collection, *, classification: str, groups, redact_pii: bool, actor) -> Collection:
    """Change settings and grants. A redaction switch applies to documents indexed from now on."""
    with transaction.atomic():
        before = {group.name for group in collection.groups.all()}
        after = {group.name for group in groups}
        if (classification, redact_pii) != (collection.classification, collection.redact_pii):
            record_event("collection.settings_changed", actor, collection,
                         classification=[collection.classification, classification],
                         redact_pii=[collection.redact_pii, redact_pii])
            Collection.objects.filter(pk=collection.pk).update(classification=classification, redact_pii=redact_pii)
        if before != after:
            collection.groups.set(groups)
            record_event("collection.grants_changed", actor, collection,
                         granted=sorted(after - before), revoked=sorted(before - after))
    collection.refresh_from_db()
    return collection


def configure_collection(name: str, *, classification: str | None, grant, redact_pii: bool | None, actor) -> Collection:
    """For the CLI: create NAME, or update what the options name on an existing one (grants are added)."""
    existing = Collection.objects.filter(name=name).first()
    if existing is None:
        return create_collection(name, classification or "internal", grant, bool(redact_pii), actor)
    return update_collection(
        existing,
        classification=classification or existing.classification,
        groups=[*existing.groups.all(), *grant],
        redact_pii=existing.redact_pii if redact_pii is None else redact_pii,
        actor=actor,
    )
