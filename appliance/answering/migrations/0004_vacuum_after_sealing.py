"""After 0003 dropped the plaintext questions and answers: on SQLite, rewrite the database file
(VACUUM), because SQLite leaves the bytes of dropped rows in its free pages, where anyone who
reads the file still finds them; then empty the write-ahead log (the appliance runs SQLite in WAL
mode), which still holds the old pages until a checkpoint truncates it. VACUUM cannot run inside
a transaction, hence atomic = False.
PostgreSQL reuses dead rows' space in its own time (see docs/security.md)."""
from django.db import migrations


def vacuum_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("answering", "0003_seal_exchanges"),
    ]

    operations = [
        migrations.RunPython(vacuum_sqlite, migrations.RunPython.noop, elidable=True),
    ]
