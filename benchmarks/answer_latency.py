"""Answer latency: time to the first evidence shown, to the model's first piece and to its checked
answer shown, p50/p95, for a clean and a sensitive question over 10,000 chunks, SmolLM2 on 2 cores.

    .venv/bin/python benchmarks/answer_latency.py [--runs 10] [--max-tokens 128]

A public collection holds a real handbook (ingested through the pipeline) plus filler chunks with
random unit vectors up to 10,000 points, so that the filtered vector search runs at that size
(MiniLM-embedding 10,000 texts would take minutes and changes nothing for the search). Gemma is
disabled so that SmolLM2 answers both questions; no external model is configured, so the clean
question is answered inside too. Each question is asked through answer_question() as the worker
runs it, with a Progress that records when the page would get something, all counted from the
question (so they include screening, retrieval and routing):
- evidence shown: the quotes the appliance chose (before any model runs);
- first token: the model's first piece of answer text;
- model text shown: the model's checked answer (the first finished sentence released by the
  output rails, or the whole answer once checked); only for answers whose outcome is "answered";
- decode speed: pieces after the first / time from the first piece to the last.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-bench-")
for name in ("DATABASE_URL", "QDRANT_URL", "APPLIANCE_EXTERNAL_LLM_URL"):
    os.environ.pop(name, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

from appliance.accounts.roles import Role, install_roles  # noqa: E402
from appliance.answering.pipeline import ANSWERED, Progress, answer_question  # noqa: E402
from appliance.retrieval.keywords import Keywords  # noqa: E402
from appliance.retrieval.store import ChunkPoint  # noqa: E402
from appliance.routing.models import RegisteredModel  # noqa: E402
from appliance.routing.registry import register_shipped_models, set_model_enabled  # noqa: E402
from appliance.runtime import worker_parts  # noqa: E402
from ingest.models import Collection  # noqa: E402

HANDBOOK = """# Office hours

The office opens at 8:00 and closes at 18:00 on weekdays. On public holidays it stays closed.

# Expenses

Taxi receipts are reimbursed up to 80 euros per trip; claims go through the expenses portal within 30 days.

# Equipment

Laptops are replaced every four years. Lost equipment must be reported to the service desk the same day.
"""
QUESTIONS = {
    "clean": "How long do I have to submit a taxi expense claim?",
    "clean, one figure": "How often are laptops replaced?",
    "sensitive": "Maria Keller lost her laptop yesterday; when must lost equipment be reported?",
}
TOTAL_CHUNKS = 10_000


def set_up(workdir: Path):
    call_command("migrate", verbosity=0)
    install_roles()
    team = Group.objects.get_or_create(name="analysts")[0]
    from django.contrib.auth.models import User

    analyst = User.objects.create_user("bench")
    analyst.groups.add(Group.objects.get(name=Role.ANALYST), team)
    register_shipped_models()
    for model in RegisteredModel.objects.exclude(name__startswith="SmolLM2"):
        set_model_enabled(model, False)
    (workdir / "handbook.md").write_text(HANDBOOK)
    call_command("ingest", str(workdir / "handbook.md"), collection="Handbook", classification="public",
                 grant=["analysts"], verbosity=0, stdout=open(os.devnull, "w"))
    return analyst


def add_filler(parts, collection: Collection, count: int) -> None:
    rng = np.random.default_rng(3)
    for start in range(0, count, 1000):
        vectors = rng.normal(size=(min(1000, count - start), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        # Each filler chunk also gets a keyword vector of a passage's size (about 80 distinct terms
        # from a 20,000-term vocabulary), so that the keyword half of the hybrid search works at scale too.
        parts.store.upsert([
            ChunkPoint(f"filler-{start + i}", vector, collection.store_key, "0",
                       {"filename": "filler.md", "text": "Filler.", "sensitivity": "public", "section": "", "page": None},
                       keywords=Keywords(tuple(sorted(int(t) for t in rng.choice(20_000, 80, replace=False))), (1.6,) * 80))
            for i, vector in enumerate(vectors)
        ])
    parts.store.optimize()


class Marks(Progress):
    def __init__(self):
        self.evidence_at = self.text_at = None

    def evidence(self, evidence, passages):
        self.evidence_at = self.evidence_at or time.perf_counter()

    def text(self, text):
        self.text_at = self.text_at or time.perf_counter()


def measure(analyst, parts, question: str, runs: int) -> dict:
    evidence, firsts, shown, totals, rates, routes, steps, outcomes = [], [], [], [], [], set(), [], []
    for _ in range(runs):
        marks = Marks()
        started = time.perf_counter()
        answer = answer_question(analyst, question, parts, collections=["Handbook"], progress=marks)
        finished = time.perf_counter()
        outcomes.append(answer.outcome)
        totals.append(finished - started)
        if answer.route and answer.route.model:
            routes.add((answer.route.model.name, answer.route.perimeter))
        if marks.evidence_at is None:  # not_found, refused or blocked: no evidence shown, no model run
            continue
        evidence.append(marks.evidence_at - started)
        firsts.append(answer.timings["first_piece_ms"] / 1000)
        if answer.outcome == ANSWERED:
            shown.append((marks.text_at or finished) - started)
        timings = answer.timings
        if timings["pieces"] > 1:
            rates.append((timings["pieces"] - 1) / ((timings["last_piece_ms"] - timings["first_piece_ms"]) / 1000))
        steps.append((timings["screen_ms"], timings["retrieve_ms"], timings["evidence_ms"], timings["first_piece_ms"],
                      timings["check_ms"]))
    return {"evidence": evidence, "first": firsts, "shown": shown, "total": totals, "rates": rates, "routes": routes,
            "steps": steps, "outcomes": outcomes}


def p(values, q):
    return statistics.quantiles(values, n=20)[18] if q == 95 else statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    settings.ANSWERING_MAX_TOKENS = args.max_tokens
    with tempfile.TemporaryDirectory() as workdir:
        analyst = set_up(Path(workdir))
    parts = worker_parts()
    collection = Collection.objects.get(name="Handbook")
    add_filler(parts, collection, TOTAL_CHUNKS - parts.store.count(collections=[collection.store_key]))
    print(f"{parts.store.count(collections=[collection.store_key])} chunks, {os.cpu_count()} cores, "
          f"answers up to {args.max_tokens} tokens, {args.runs} runs each\n")
    print("| question | route | evidence shown p50 / p95 s | first token p50 / p95 s | model text shown p50 / p95 s "
          "| total p50 / p95 s | decode pieces/s p50 | outcomes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    breakdown = []
    for kind, question in QUESTIONS.items():
        measure(analyst, parts, question, 1)  # warm: loads the model
        result = measure(analyst, parts, question, args.runs)
        route = ", ".join(f"{name} ({perimeter})" for name, perimeter in sorted(result["routes"]))
        def both(values):
            return f"{p(values, 50):.2f} / {p(values, 95):.2f}" if len(values) > 1 else "n/a"

        shown = both(result["shown"])
        outcomes = ", ".join(f"{name} {result['outcomes'].count(name)}" for name in sorted(set(result["outcomes"])))
        rate = f"{statistics.median(result['rates']):.1f}" if result["rates"] else "n/a"
        print(f"| {kind} | {route} | {both(result['evidence'])} | {both(result['first'])} | {shown} | "
              f"{both(result['total'])} | {rate} | {outcomes} |")
        if not result["steps"]:
            continue
        screen, retrieve, evidence, first, check = (statistics.median(column) for column in zip(*result["steps"]))
        breakdown.append(f"{kind}: screen {screen:.0f} ms, retrieve {retrieve:.0f} ms, evidence {evidence:.0f} ms, "
                         f"route + prompt evaluation {first - screen - retrieve - evidence:.0f} ms (to the first piece), "
                         f"final output check {check:.0f} ms")
    print("\np50 of each step:\n" + "\n".join(breakdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
