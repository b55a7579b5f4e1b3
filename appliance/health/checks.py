from django.core.checks import Error, Tags, register
from django.db import connections


@register(Tags.database)
def check_database_reachable(app_configs=None, databases=None, **kwargs):
    """Runs before `migrate` (and at worker start): a clear line instead of a driver traceback."""
    errors = []
    for alias in databases or []:
        try:
            connections[alias].ensure_connection()
        except Exception as error:  # the driver's own exception types vary; its message is the reason
            settings_dict = connections[alias].settings_dict
            where = settings_dict.get("HOST") or settings_dict.get("NAME")
            reason = str(error).strip().splitlines()[0]
            errors.append(
                Error(
                    f"cannot connect to the database at {where} ({reason})",
                    hint="check DATABASE_URL and that the database server is running and accepts this user",
                    id="health.E001",
                )
            )
    return errors
