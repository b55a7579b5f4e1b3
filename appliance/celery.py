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
    from ingest.claims import name_this_process

    # Its claims on documents carry the worker's node name (ingest/claims.py).
    name_this_process(getattr(_kwargs.get("sender"), "hostname", None) or "worker")
    errors = [message for message in checks.run_checks(databases=["default"]) if message.is_serious()]
    for message in errors:
        hint = f" Fix: {message.hint}" if message.hint else ""
        print(f"appliance: {message.id}: {message.msg}{hint}", file=sys.stderr)
    if errors:
        raise SystemExit(2)


@signals.worker_ready.connect
def announce_worker(sender=None, **_kwargs):
    """Check in, then open the store and load the models now rather than in the first task."""
    from appliance.errors import StoreUnavailable
    from appliance.health.heartbeat import record_heartbeat
    from appliance.runtime import answer_checker, question_screener, worker_parts

    record_heartbeat(worker_name=sender.hostname if sender else "worker")
    question_screener()  # NeMo rails and the injection classifier: not in the first question's time
    answer_checker()
    try:
        worker_parts()
    except StoreUnavailable as error:
        print(f"appliance: {error.message} Tasks that need it will retry.", file=sys.stderr)
        return
    resume_unfinished_work()


def resume_unfinished_work():
    """Queue again what a stopped worker left unfinished (ingest/claims.py). Only once the store is
    open: with the embedded store that proves no other process is indexing."""
    from django.conf import settings

    from ingest import claims

    claims.report(claims.resume_after_restart(
        store_is_ours=not settings.QDRANT_URL, broker_loses_fetched=settings.CELERY_BROKER_URL.startswith("filesystem://"),
    ))


@signals.worker_shutdown.connect
def close_store_on_shutdown(**_kwargs):
    """Flush and close the embedded store so the next process can open it."""
    from appliance.runtime import release_store

    release_store()
