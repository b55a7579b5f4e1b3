"""Tables whose rows, once written, the database itself refuses to change or delete.

Used for rows whose meaning others rely on later: published policy versions (verdicts name them),
and the audit ledger. The triggers stop the application and anyone using it by mistake; they do
not stop a database superuser, which is why the ledger is also hash-chained.

On PostgreSQL, TRUNCATE is refused too. A migration adds the triggers with refuse_changes(table);
refuse_changes(table, allow_delete=True) refuses only UPDATE (the ledger's sealed payloads, which
retention destroys but nobody may alter).
"""
from django.db import migrations

SQLITE_TRIGGERS = (
    "CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} "
    "BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows cannot be changed'); END",
    "CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} "
    "BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows cannot be deleted'); END",
)

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION appliance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""

POSTGRESQL_UPDATE_TRIGGER = (
    "CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION appliance_refuse_change()"
)

POSTGRESQL_TRIGGERS = (
    "CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION appliance_refuse_change()",
    "CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION appliance_refuse_change()",
)


def trigger_statements(vendor: str, table: str, allow_delete: bool = False) -> list[str]:
    """The SQL that makes TABLE append-only on VENDOR ("sqlite" or "postgresql")."""
    if vendor == "sqlite":
        statements = SQLITE_TRIGGERS[:1] if allow_delete else SQLITE_TRIGGERS
        return [statement.format(table=table) for statement in statements]
    if vendor == "postgresql":
        statements = (POSTGRESQL_UPDATE_TRIGGER,) if allow_delete else POSTGRESQL_TRIGGERS
        return [POSTGRESQL_FUNCTION] + [statement.format(table=table) for statement in statements]
    raise NotImplementedError(f"append-only tables are implemented for SQLite and PostgreSQL, not {vendor}")


def trigger_names(vendor: str, table: str, allow_delete: bool = False) -> list[str]:
    if vendor == "sqlite":
        return [f"{table}_refuse_update"] + ([] if allow_delete else [f"{table}_refuse_delete"])
    if allow_delete:
        return [f"{table}_refuse_update"]
    return [f"{table}_refuse_change", f"{table}_refuse_truncate"]


def refuse_changes(table: str, allow_delete: bool = False) -> migrations.RunPython:
    """A migration operation adding the triggers to TABLE on whichever database runs it."""

    def add_triggers(apps, schema_editor):
        for statement in trigger_statements(schema_editor.connection.vendor, table, allow_delete):
            schema_editor.execute(statement, params=None)  # the plpgsql body has % of its own

    def remove_triggers(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for name in trigger_names(vendor, table, allow_delete):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if vendor == "postgresql" else ""))

    return migrations.RunPython(add_triggers, remove_triggers)
