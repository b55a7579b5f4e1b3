"""Celery adapter: the worker reads a registered model file's sha256 (seconds per gigabyte)."""
from celery import shared_task

from appliance.routing.registry import record_model_hash


@shared_task
def hash_model_file(model_id: int) -> None:
    record_model_hash(model_id)
