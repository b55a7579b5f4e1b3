"""Answer quality on a labelled question set, measured through the stable command-line interfaces.

    cd <repo> && .venv/bin/python <path-to>/benchmarks/answer_quality.py [--split dev|test|holdout|all]
        [--retrieval-only | --ask-split dev|test|holdout|all] [--out results.json] [--questions PATH]
        [--corpus DIR] [--limit N] [--keep-data]

The code measured is the one in the current directory, not the one next to this file: run the
same script with the working directory at an older checkout to compare two versions side by side.
Everything happens in one process, in a fresh data dir: migrate, `bootstrap --demo`, `ingest`
each collection (granted to the team "analysts"), then per question `search --k 5`, `search --k 10`
and (unless --retrieval-only) `ask`, all through django.core.management.call_command, so that the
models load once. The metrics are defined in appliance/answering/evaluation/README.md.
The test split is held back: report on it, never tune on it.
"""
import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

EVALUATION = Path(__file__).resolve().parent.parent / "appliance" / "answering" / "evaluation"
ANALYSTS_TEAM, ANALYST = "analysts", "analyst"
WARM_UP_QUESTION = "What is this collection about?"

# The old answer path has no "outcome": it abstains in words, as its prompt asks ("say that the
# documents do not say"), or refuses. This is what counts as abstaining in words.
ABSTAIN_WORDS = re.compile(
    r"\b(?:do(?:es)?\s*n[o']t|did\s*n[o']t|cannot|can't|could\s*n[o']t|unable\s+to)\s+"
    r"(?:say|answer|mention|contain|provide|specify|state|address|cover|include|find|know|give|have)\b"
    r"|\bno\s+(?:relevant\s+|specific\s+)?(?:information|mention|answer|details?)\b"
    r"|\bnot\s+(?:mentioned|covered|specified|stated|provided|found|included|addressed|available)\b"
    r"|\bthere\s+is\s+nothing\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d[\d.,:]*")
CITATION_MARKER = re.compile(r"\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")


def main() -> int:
    args = parse_arguments()
    every_question = load_questions(args.questions)
    questions = [q for q in every_question if args.split == "all" or q["split"] == args.split]
    if args.limit:
        questions = questions[: args.limit]
    repo = Path.cwd()
    data_dir = tempfile.mkdtemp(prefix="answer-quality-")
    call = start_django(repo, data_dir)
    started = time.perf_counter()
    setup = set_up(call, args.corpus, every_question)
    setup_seconds = time.perf_counter() - started
    if not args.retrieval_only:
        setup["warm_up"] = ask(call, WARM_UP_QUESTION, sorted({q["collection"] for q in questions})[0])
    records = []
    for number, question in enumerate(questions, 1):
        ask_too = not args.retrieval_only and args.ask_split in (None, "all", question["split"])
        records.append(measure(call, question, ask_too=ask_too))
        print(progress_line(number, len(questions), records[-1]), file=sys.stderr, flush=True)
    summary = summarise(records)
    result = {
        "code": describe_code(repo),
        "imported_from": str(Path(sys.modules["appliance"].__file__).parent.parent),
        "data_dir": data_dir if args.keep_data else None,
        "arguments": {"split": args.split, "retrieval_only": args.retrieval_only, "ask_split": args.ask_split,
                      "limit": args.limit, "questions": str(args.questions), "corpus": str(args.corpus)},
        "setup": {**setup, "seconds": round(setup_seconds, 1)},
        "run_seconds": round(time.perf_counter() - started, 1),
        "abstain_regex": ABSTAIN_WORDS.pattern,
        "summary": summary,
        "questions": records,
    }
    print_table(summary, result)
    if not args.keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    return 0


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "test", "holdout", "all"], default="dev")
    parser.add_argument("--retrieval-only", action="store_true", help="search only; do not ask")
    parser.add_argument("--ask-split", choices=["dev", "test", "holdout", "all"],
                        help="ask only the questions of this split (default: every measured question); "
                             "the others are searched only")
    parser.add_argument("--out", help="write per-question details and the summary to this JSON file")
    parser.add_argument("--questions", type=Path, default=EVALUATION / "questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=EVALUATION / "corpus")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (for a quick try)")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (traces, store)")
    return parser.parse_args()


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def start_django(repo: Path, data_dir: str):
    """Configure the app in REPO with a fresh data dir; return call(name, *args) -> (stdout, error)."""
    # Set before settings load: load_dotenv never overrides a variable that is set, even to "".
    os.environ.update({
        "APPLIANCE_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "appliance.settings",
        "DATABASE_URL": f"sqlite:///{data_dir}/appliance.sqlite3",
        "QDRANT_URL": "",
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "APPLIANCE_EXTERNAL_LLM_URL": "",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    })
    sys.path.insert(0, str(repo))
    import django
    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    def call(name: str, *arguments: str) -> tuple[str, str | None]:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(name, *arguments, stdout=out, stderr=err)
        except CommandError as error:
            return out.getvalue(), f"CommandError: {error}"
        except Exception as error:  # noqa: BLE001 - one question's failure must not end the run
            return out.getvalue(), f"{type(error).__name__}: {error}"
        return out.getvalue(), None

    return call


def set_up(call, corpus: Path, questions: list[dict]) -> dict:
    """Migrate, create the demo people and ingest the documents QUESTIONS name, per collection."""
    for name, arguments in (("migrate", ["--verbosity", "0"]), ("bootstrap", ["--demo"])):
        _out, error = call(name, *arguments)
        if error:
            raise SystemExit(f"{name} failed: {error}")
    files_by_collection = defaultdict(set)
    # Every document the question file names, whatever split or --limit is measured: retrieval must
    # find the right document among all of its collection's.
    for question in questions:
        if question.get("document"):
            files_by_collection[question["collection"]].add(question["document"])
    ingested = {}
    for collection, files in sorted(files_by_collection.items()):
        out, error = call("ingest", *[str(corpus / name) for name in sorted(files)],
                          "--collection", collection, "--grant", ANALYSTS_TEAM)
        lines = json_lines(out)
        ingested[collection] = {"files": lines, "error": error}
        if error or any(line.get("status") not in ("ready", "indexed") for line in lines):
            print(f"ingest of {collection}: {error or lines}", file=sys.stderr)
    return {"ingested": ingested}


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def search(call, question: dict, k: int) -> dict:
    started = time.perf_counter()
    out, error = call("search", question["question"], "--collection", question["collection"],
                      "--user", ANALYST, "--k", str(k))
    hits = [{key: hit.get(key) for key in ("document", "section", "page", "score", "chunk_id", "text")}
            for hit in json_lines(out)]
    return {"hits": hits, "error": error, "ms": round((time.perf_counter() - started) * 1000, 1)}


def ask(call, text: str, collection: str) -> dict:
    started = time.perf_counter()
    out, error = call("ask", text, "--user", ANALYST, "--collection", collection)
    seconds = time.perf_counter() - started
    objects = json_lines(out)
    if not objects and not error:
        error = f"no JSON object in the output: {out[:200]!r}"
    return {"output": objects[-1] if objects else None, "error": error, "seconds": round(seconds, 2)}


def measure(call, question: dict, ask_too: bool) -> dict:
    top5, top10 = search(call, question, 5), search(call, question, 10)
    record = {key: question.get(key) for key in
              ("id", "split", "document", "collection", "question", "answerable", "gold_section", "keywords")}
    record["search"] = {"top5": shorten(top5), "top10_ms": top10["ms"], "top10_error": top10["error"],
                        "top10": [brief(hit) for hit in top10["hits"]]}
    record["retrieval"] = score_retrieval(question, top5, top10)
    if ask_too:
        asked = ask(call, question["question"], question["collection"])
        record["ask"] = asked
        record["answer_scores"] = score_answer(question, asked)
    return record


def shorten(result: dict) -> dict:
    return {"ms": result["ms"], "error": result["error"], "hits": [brief(hit) for hit in result["hits"]]}


def brief(hit: dict) -> dict:
    return {**{key: hit.get(key) for key in ("document", "section", "page", "score", "chunk_id")},
            "text": (hit.get("text") or "")[:240]}


# ---- scoring -------------------------------------------------------------------------------------

def norm(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().lower()


def has_all(text: str, keywords: list[str]) -> bool:
    text = norm(text)
    return bool(keywords) and all(norm(keyword) in text for keyword in keywords)


def section_matches(section, gold) -> bool:
    return bool(gold) and norm(gold) in norm(section)


def score_retrieval(question: dict, top5: dict, top10: dict) -> dict | None:
    if not question["answerable"]:
        return None
    keywords, gold = question["keywords"], question["gold_section"]
    hits5, hits10 = top5["hits"], top10["hits"]
    rank = next((i for i, hit in enumerate(hits10, 1) if has_all(hit.get("text"), keywords)), None)
    return {
        "recall_at_5": has_all(" \n ".join(hit.get("text") or "" for hit in hits5), keywords),
        "section_recall_at_5": any(section_matches(hit.get("section"), gold) for hit in hits5),
        "document_at_1": bool(hits5) and hits5[0].get("document") == question["document"],
        "first_rank_at_10": rank,
        "reciprocal_rank_at_10": 1 / rank if rank else 0.0,
        "error": top5["error"] or top10["error"],
    }


def outcome_of(output: dict | None) -> str:
    """The new path's outcome; for the old one (no outcome field) derived from action and words."""
    if not output:
        return "error"
    if output.get("outcome"):
        return output["outcome"]
    action = output.get("action")
    if action in ("blocked", "refused"):
        return action
    return "not_found" if ABSTAIN_WORDS.search(output.get("answer") or "") else "answered"


def score_answer(question: dict, asked: dict) -> dict:
    output = asked["output"] or {}
    answer = output.get("answer") or ""
    outcome = outcome_of(asked["output"])
    has_outcome = bool(output.get("outcome"))
    abstained = outcome == "not_found" if has_outcome else outcome in ("not_found", "refused")
    citations = output.get("citations") or []
    scores = {
        "outcome": outcome,
        "has_outcome_field": has_outcome,
        "abstained": abstained,
        "blocked": output.get("action") == "blocked" or outcome == "blocked",
        "error": asked["error"],
        "unsupported_numbers": unsupported_numbers(answer, citations, output.get("evidence"))
        if outcome in ("answered", "quoted") else [],
    }
    if question["answerable"]:
        scores["contains_keywords"] = has_all(answer, question["keywords"])
        # What the analyst reads: the answer and, under it, the quotes it rests on (new code only;
        # the old code shows no quotes, so this equals the answer alone there).
        shown = " \n ".join([answer, *evidence_texts(output.get("evidence"))]) if outcome in ("answered", "quoted") else answer
        scores["shown_contains_keywords"] = has_all(shown, question["keywords"])
        scores["cites_gold_section"] = any(section_matches(c.get("section"), question["gold_section"])
                                           for c in citations if isinstance(c, dict))
        scores["cites_gold_document"] = any(c.get("document") == question["document"]
                                            for c in citations if isinstance(c, dict))
    return scores


def unsupported_numbers(answer: str, citations: list, evidence) -> list[str]:
    """Number tokens of ANSWER (outside [n] markers) found in neither the cited chunks' text nor
    the quotes of an "evidence" list."""
    tokens = [token.rstrip(".,:") for token in NUMBER.findall(CITATION_MARKER.sub(" ", answer))]
    tokens = [token for token in tokens if token]
    if not tokens:
        return []
    support = norm(" \n ".join(cited_texts(citations) + evidence_texts(evidence)))
    # A whole number of the evidence: "2" is not supported by "25th", nor "1.5" by "21.5".
    return [token for token in tokens if not re.search(rf"(?<![\d.,:]){re.escape(token)}(?!\d|[.,:]\d)", support)]


def cited_texts(citations: list) -> list[str]:
    from ingest.models import Chunk

    ids = [c.get("chunk_id") for c in citations if isinstance(c, dict) and c.get("chunk_id")]
    return list(Chunk.objects.filter(chunk_id__in=ids).values_list("text", flat=True))


def evidence_texts(evidence) -> list[str]:
    texts = []
    for item in evidence or []:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(str(item[key]) for key in ("quote", "text", "span") if isinstance(item.get(key), str))
    return texts


# ---- summary -------------------------------------------------------------------------------------

def summarise(records: list[dict]) -> dict:
    groups = {"all": records}
    for split in ("dev", "test", "holdout"):
        chosen = [r for r in records if r["split"] == split]
        if chosen:
            groups[split] = chosen
    return {name: summarise_group(group) for name, group in groups.items()}


def rate(values: list[bool]) -> dict:
    return {"rate": round(sum(values) / len(values), 3) if values else None, "n": len(values),
            "count": sum(values)}


def summarise_group(records: list[dict]) -> dict:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    retrieval = [r["retrieval"] for r in answerable]
    summary = {
        "questions": len(records), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "recall_at_5": rate([s["recall_at_5"] for s in retrieval]),
        "section_recall_at_5": rate([s["section_recall_at_5"] for s in retrieval]),
        "document_at_1": rate([s["document_at_1"] for s in retrieval]),
        "mrr_at_10": round(statistics.mean(s["reciprocal_rank_at_10"] for s in retrieval), 3) if retrieval else None,
        "search_errors": sum(1 for s in retrieval if s["error"]),
    }
    asked = [r for r in records if "ask" in r]
    if not asked:
        return summary
    scored_answerable = [r["answer_scores"] for r in answerable if "ask" in r]
    scored_unanswerable = [r["answer_scores"] for r in unanswerable if "ask" in r]
    every = [r["answer_scores"] for r in asked]
    latencies = [r["ask"]["seconds"] for r in asked if not r["ask"]["error"]]
    outcomes = defaultdict(int)
    for scores in every:
        outcomes[scores["outcome"]] += 1
    with_numbers = [s["unsupported_numbers"] for s in every if s["outcome"] in ("answered", "quoted")]
    summary.update({
        "asked": len(asked),
        "answer_contains_keywords": rate([s["contains_keywords"] for s in scored_answerable]),
        "shown_contains_keywords": rate([s["shown_contains_keywords"] for s in scored_answerable]),
        "answer_cites_gold_section": rate([s["cites_gold_section"] for s in scored_answerable]),
        "answer_cites_gold_document": rate([s["cites_gold_document"] for s in scored_answerable]),
        "abstention_on_unanswerable": rate([s["abstained"] for s in scored_unanswerable]),
        "false_abstention_on_answerable": rate([s["abstained"] for s in scored_answerable]),
        "blocked": rate([s["blocked"] for s in every]),
        "ask_errors": sum(1 for s in every if s["error"]),
        "outcomes": dict(sorted(outcomes.items())),
        "answers_with_unsupported_numbers": {"count": sum(1 for n in with_numbers if n),
                                             "of_answers": len(with_numbers),
                                             "numbers": sum(len(n) for n in with_numbers)},
        "ask_seconds": {"mean": round(statistics.mean(latencies), 2) if latencies else None,
                        "median": round(statistics.median(latencies), 2) if latencies else None,
                        "max": round(max(latencies), 2) if latencies else None},
    })
    return summary


ROWS = [
    ("questions (answerable/unanswerable)", lambda s: f"{s['questions']} ({s['answerable']}/{s['unanswerable']})"),
    ("recall@5 (keywords in top-5)", lambda s: fmt_rate(s["recall_at_5"])),
    ("section recall@5", lambda s: fmt_rate(s["section_recall_at_5"])),
    ("right document at rank 1", lambda s: fmt_rate(s["document_at_1"])),
    ("MRR@10 (one passage, all keywords)", lambda s: f"{s['mrr_at_10']:.3f}" if s["mrr_at_10"] is not None else "-"),
    ("answer contains all keywords", lambda s: fmt_rate(s.get("answer_contains_keywords"))),
    ("answer + its quotes contain all keywords", lambda s: fmt_rate(s.get("shown_contains_keywords"))),
    ("answer cites gold section", lambda s: fmt_rate(s.get("answer_cites_gold_section"))),
    ("answer cites gold document", lambda s: fmt_rate(s.get("answer_cites_gold_document"))),
    ("abstains on unanswerable", lambda s: fmt_rate(s.get("abstention_on_unanswerable"))),
    ("false abstention on answerable", lambda s: fmt_rate(s.get("false_abstention_on_answerable"))),
    ("blocked by screening", lambda s: fmt_rate(s.get("blocked"))),
    ("answers with unsupported numbers", lambda s: fmt_numbers(s.get("answers_with_unsupported_numbers"))),
    ("ask errors / search errors", lambda s: f"{s.get('ask_errors', '-')} / {s['search_errors']}"),
    ("ask seconds mean / median", lambda s: fmt_seconds(s.get("ask_seconds"))),
]


def fmt_rate(value) -> str:
    if not value or value["rate"] is None:
        return "-"
    return f"{value['rate'] * 100:5.1f}% ({value['count']}/{value['n']})"


def fmt_numbers(value) -> str:
    if not value:
        return "-"
    return f"{value['count']}/{value['of_answers']} ans., {value['numbers']} num."


def fmt_seconds(value) -> str:
    if not value or value["mean"] is None:
        return "-"
    return f"{value['mean']:.1f} / {value['median']:.1f}"


def print_table(summary: dict, result: dict) -> None:
    columns = [name for name in ("dev", "test", "holdout", "all") if name in summary]
    width = max(len(label) for label, _ in ROWS) + 2
    print(f"\ncode: {result['code']}   run: {result['run_seconds']} s (setup {result['setup']['seconds']} s)")
    print("".ljust(width) + "".join(name.ljust(26) for name in columns))
    for label, show in ROWS:
        print(label.ljust(width) + "".join(show(summary[name]).ljust(26) for name in columns))
    for name in columns:
        outcomes = summary[name].get("outcomes")
        if outcomes:
            print(f"outcomes ({name}): " + ", ".join(f"{key} {count}" for key, count in outcomes.items()))


def progress_line(number: int, total: int, record: dict) -> str:
    parts = [f"[{number}/{total}] {record['id']}"]
    if record["retrieval"]:
        parts.append(f"r@5={int(record['retrieval']['recall_at_5'])}")
    if "answer_scores" in record:
        scores = record["answer_scores"]
        parts.append(f"{scores['outcome']} {record['ask']['seconds']:.1f}s")
        if "contains_keywords" in scores:
            parts.append(f"kw={int(scores['contains_keywords'])}")
        if scores["error"]:
            parts.append(scores["error"][:80])
    return " ".join(parts)


def describe_code(repo: Path) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(repo)
    return f"{repo} @ {commit}{' (with uncommitted changes)' if dirty else ''}"


if __name__ == "__main__":
    sys.exit(main())
