"""The Celery app. In embedded mode the worker is the single owner of the vector store and the
models (threads pool), so the web tier never loads either."""
import sys

from celery import Celery, signals

from appliance.startup import load_settings_or_exit

load_settings_or_exit()

app = Celery("appliance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def refuse_to_start_misconfigured(**_kwargs):
    """Run Django's system checks (model files, data dir...) before taking any work."""
    import django
    from django.core import checks

    django.setup()
    errors = [message for message in checks.run_checks(databases=["default"]) if message.is_serious()]
    for message in errors:
        hint = f" Fix: {message.hint}" if message.hint else ""
        print(f"appliance: {message.id}: {message.msg}{hint}", file=sys.stderr)
    if errors:
        raise SystemExit(2)


@signals.worker_ready.connect
def announce_worker(sender=None, **_kwargs):
    from appliance.health.heartbeat import record_heartbeat

    record_heartbeat(worker_name=sender.hostname if sender else "worker")
