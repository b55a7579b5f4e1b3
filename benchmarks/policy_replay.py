"""The policy test bench's replay: 2,000 stored questions screened under a draft and under the
version in force, as the worker runs it, beside the naive way in the same run.

    .venv/bin/python benchmarks/policy_replay.py [--questions 2000]

The questions are made with a fixed seed (benchmarks/screening_latency.py's 30-word business
questions, one in three with a name, an e-mail address or a phone number; one in ten asks about an
acquisition), stored as answer traces in the ledger of a fresh SQLite database (question sealed,
route recorded as public), which is where the replay reads them, blocked ones included. The draft adds a denied topic
("Mergers") and stops treating names as sensitive. Timed:

- replay: guardrails.testbench.run_trial, everything included (opening each sealed question,
  QuestionScreener.run_under_each under both policies, progress updates, the result and the ledger
  event);
- naive: the same questions opened and screened one policy at a time (QuestionScreener.run twice),
  nothing shared between the two verdicts.
"""
import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from appliance.audit.models import LedgerEntry  # noqa: E402
from appliance.audit.recording import record_event  # noqa: E402
from appliance.audit.review import open_questions  # noqa: E402
from appliance.runtime import question_screener  # noqa: E402
from guardrails.models import PolicyTrial  # noqa: E402
from guardrails.policy import DEFAULT_RULES, Policy  # noqa: E402
from guardrails.publishing import current_policy  # noqa: E402
from guardrails.testbench import request_replay, run_trial  # noqa: E402
from screening_latency import questions  # noqa: E402

ACQUISITIONS = ["Which companies are we about to acquire this year?", "Is a takeover of the logistics vendor planned?",
                "Which acquisition targets did the board discuss last quarter?"]
DRAFT = {
    **DEFAULT_RULES,
    "entity_actions": {entity: action for entity, action in DEFAULT_RULES["entity_actions"].items() if entity != "PERSON"},
    "denied_topics": [{"name": "Mergers", "examples": ["Which companies are we about to acquire?"]}],
}


def stored_questions(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    texts = questions(count, seed=seed)
    return [rng.choice(ACQUISITIONS) if index % 10 == 5 else text for index, text in enumerate(texts)]


PUBLIC = {"question": "public", "collections": "public", "chunks": "public", "conversation": "public"}


def store(texts: list[str]) -> User:
    analyst = User.objects.create_user("alice")
    for text in texts:
        record_event("answer.answered", analyst, ("trace", uuid.uuid4().hex), sealed={"question": text},
                     outcome="answered", verdict={"action": "clean", "findings": []},
                     route={"name": "external-general", "sources": PUBLIC})
    return User.objects.create_user("charlie")


def naive(screener, count: int) -> float:
    draft, current = Policy.from_rules(DRAFT), current_policy()
    started = time.perf_counter()
    entries = list(LedgerEntry.objects.filter(action__startswith="answer.").order_by("-seq")[:count])
    open_questions(entries)
    for entry in entries:
        screener.run(entry.question, draft)
        screener.run(entry.question, current)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    officer = store(stored_questions(args.questions))
    screener = question_screener()  # loaded and warmed up, as in a running worker
    current_policy()

    trial = request_replay(officer, DRAFT, args.questions)
    started = time.perf_counter()
    run_trial(trial.pk, screener)
    replay_seconds = time.perf_counter() - started
    trial = PolicyTrial.objects.get(pk=trial.pk)
    naive_seconds = naive(screener, args.questions)

    print(f"{trial.result['replayed']} stored questions, {os.cpu_count()} CPU cores")
    print(f"counts: {trial.result['counts']}")
    print("| way | seconds | ms per question |\n| --- | ---: | ---: |")
    print(f"| **replay (run_trial: shared readings and embeddings, both policies)** | **{replay_seconds:.1f}** | "
          f"**{1000 * replay_seconds / args.questions:.1f}** |")
    print(f"| naive (QuestionScreener.run under each policy) | {naive_seconds:.1f} | {1000 * naive_seconds / args.questions:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
