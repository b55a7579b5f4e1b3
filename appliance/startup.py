"""Start-up guard shared by manage.py, the WSGI server and the Celery worker.

Configuration comes only from the environment, and a mistake there should stop the process
with one line that names the variable and the fix, not with a traceback.
"""
import os
import sys

from django.core.exceptions import ImproperlyConfigured


def load_settings_or_exit() -> None:
    """Import the settings now; on a configuration error print one line and exit with code 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 -- touching a setting imports the module
    except ImproperlyConfigured as error:
        print(f"appliance: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
