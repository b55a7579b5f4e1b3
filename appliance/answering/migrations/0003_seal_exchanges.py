"""Exchanges stop keeping questions, answers and quotes in plaintext: each is sealed with the
ledger's field encryption (see Exchange), and a blocked question is not kept at all.

Existing rows are sealed in place; the plaintext columns are then dropped. On SQLite the next
migration (0004) vacuums the file, so the dropped text does not linger in free pages.
"""
import base64
import uuid

import django.utils.timezone
from django.db import migrations, models


def seal(uid, field, value) -> dict:
    # A copy of appliance.answering.models.seal_exchange_field as it is today: a migration must
    # keep doing what it did when it was written.
    from appliance.audit.sealing import ledger_key

    sealed = ledger_key().seal(0, f"exchange:{uid}:{field}", value)
    return {"ciphertext": base64.b64encode(sealed.ciphertext).decode("ascii"),
            "commitment": sealed.digest["commitment"], "key_id": sealed.digest["key_id"]}


def seal_existing_exchanges(apps, schema_editor):
    Exchange = apps.get_model("answering", "Exchange")
    for exchange in Exchange.objects.all().iterator():
        uid = uuid.uuid4()
        blocked = exchange.status == "blocked" or exchange.outcome == "blocked"
        Exchange.objects.filter(pk=exchange.pk).update(
            uid=uid,
            outcome="blocked" if blocked else exchange.outcome,
            sealed_question=None if blocked else seal(uid, "question", exchange.question),
            sealed_answer=seal(uid, "answer", exchange.answer) if exchange.answer else None,
            sealed_evidence=seal(uid, "evidence", exchange.evidence) if exchange.evidence else None,
            question="", answer="", evidence=[],
        )


def open_sealed_exchanges(apps, schema_editor):
    """Back to plaintext columns (a blocked question stays withheld: it was never kept)."""
    from appliance.audit.sealing import ledger_key

    key = ledger_key()
    Exchange = apps.get_model("answering", "Exchange")
    for exchange in Exchange.objects.all().iterator():
        opened = {}
        for field, empty in (("question", ""), ("answer", ""), ("evidence", [])):
            stored = getattr(exchange, f"sealed_{field}")
            opened[field] = empty if stored is None else key.open(
                0, f"exchange:{exchange.uid}:{field}", base64.b64decode(stored["ciphertext"]), stored)
        Exchange.objects.filter(pk=exchange.pk).update(**opened)


class Migration(migrations.Migration):

    dependencies = [
        ("answering", "0002_exchange_outcome_evidence"),
    ]

    operations = [
        migrations.AddField(
            model_name="exchange",
            name="uid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="exchange",
            name="sealed_question",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="exchange",
            name="sealed_answer",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="exchange",
            name="sealed_evidence",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="exchange",
            name="passage_entities",
            field=models.JSONField(default=dict),
        ),
        migrations.RunPython(seal_existing_exchanges, open_sealed_exchanges, elidable=False),
        # Defaults only so that the migration can be unapplied (the columns come back empty, then filled).
        migrations.AlterField(model_name="exchange", name="question", field=models.TextField(default="")),
        migrations.RemoveField(model_name="exchange", name="question"),
        migrations.RemoveField(model_name="exchange", name="answer"),
        migrations.RemoveField(model_name="exchange", name="evidence"),
        migrations.AlterField(
            model_name="exchange",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="exchange",
            name="asked_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
    ]
