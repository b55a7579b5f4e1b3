"""Lets the test runner empty append-only tables between transactional tests.

pytest-django empties every table after a test that commits (DELETE on SQLite, TRUNCATE on
PostgreSQL), which the append-only triggers refuse, as they should for anyone else. During that
flush only, the triggers are set aside: dropped and re-created on SQLite, and on PostgreSQL
skipped with session_replication_role (a superuser's privilege, which the test database user
has). A database superuser can do the same in production; the audit ledger's hash chain is what
catches that.
"""
from contextlib import contextmanager

from django.db.backends.base.operations import BaseDatabaseOperations

_flush = BaseDatabaseOperations.execute_sql_flush


@contextmanager
def triggers_set_aside(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_refuse\\_%' ESCAPE '\\'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for _, sql in triggers:
                    cursor.execute(sql)
        else:
            cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET session_replication_role = origin")


def flush_with_triggers_set_aside(self, sql_list):
    with triggers_set_aside(self.connection):
        _flush(self, sql_list)


def install() -> None:
    BaseDatabaseOperations.execute_sql_flush = flush_with_triggers_set_aside
