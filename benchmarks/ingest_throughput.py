"""Ingestion throughput in chunks/s on this machine, PII scan and embedding included.

    .venv/bin/python benchmarks/ingest_throughput.py [--chunks 400]

Builds a Markdown document of ~160-word business paragraphs (one chunk each; about one in three
mentions a person, an e-mail address or a phone number), then:
  1. times each stage on its own (parse+chunk, Presidio scan, MiniLM embedding, Qdrant Edge upsert);
  2. times the whole of index_document() on a fresh copy, as the worker runs it.
Models are loaded before timing starts (the worker loads them once at start). Uses a private
data dir and SQLite database; prints a Markdown table for docs/benchmarks.md.
"""
import argparse
import os
import random
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


def build_document(chunks: int, seed: int) -> bytes:
    rng = random.Random(seed)
    sections = []
    for start in range(0, chunks, 10):
        body = "\n\n".join(paragraph(rng, i) for i in range(start, min(start + 10, chunks)))
        sections.append(f"## Section {start // 10 + 1}\n\n{body}")
    return ("# Benchmark handbook\n\n" + "\n\n".join(sections)).encode()


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=400)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
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
