"""Celery adapter: the worker answers a question asked in the browser."""
from celery import shared_task

from appliance.answering.conversations import run_exchange
from appliance.runtime import worker_parts


@shared_task
def answer_exchange(exchange_id: int) -> None:
    run_exchange(exchange_id, worker_parts())
