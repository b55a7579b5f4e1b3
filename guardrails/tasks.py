"""Celery adapter: the worker runs the policy test bench (guardrails/testbench.py)."""
from celery import shared_task

from appliance.runtime import question_screener
from guardrails.testbench import run_trial


@shared_task
def run_policy_trial(trial_id: int) -> None:
    run_trial(trial_id, question_screener())
