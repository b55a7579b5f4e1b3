"""WSGI entry point (gunicorn appliance.wsgi)."""
from appliance.startup import load_settings_or_exit

load_settings_or_exit()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
