"""100,000 chunks in the real embedded vector store: retrieval still keeps to the granted
collection, still finds a known passage, and the store stays within its memory and disk budget.

What is real: Qdrant Edge through the appliance's own adapter (EdgeStore), payloads shaped as
indexing writes them (text, section, page, filename, version, sensitivity), BM25 keyword vectors
from the appliance's KeywordEncoder, MiniLM meaning vectors, hybrid search as retrieval runs it.

What is not: MiniLM embeds only the 300 generated passages below and the planted one (embedding
100,000 chunks at ~60 chunks/s would take half an hour). Each of the 100,000 chunks reuses one of
those 300 vectors with a small seeded perturbation (cosine to its source about 0.99), and its text is
that passage plus its own record number, so its keyword vector differs too. Everything is seeded;
nothing depends on the clock.

No timing is asserted (the project forbids timed assertions): the search latencies of this run
go to test-artifacts/scale-100k.json; docs/scaling.md has the benchmark's figures
(benchmarks/vector_scale.py).
"""
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from appliance.retrieval.edge_store import EdgeStore
from appliance.retrieval.embedding import Embedder
from appliance.retrieval.keywords import KeywordEncoder
from appliance.retrieval.store import ChunkPoint
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.slow

CHUNKS = 100_000
PASSAGES = 300
COLLECTIONS = [f"collection-{i}" for i in range(10)]
LEVELS = ("public", "internal", "confidential", "restricted")
BATCH = 1000

# Bounds, from this test's runs and benchmarks/vector_scale.py (docs/scaling.md). Measured at
# 100,002 chunks: the peak RSS grew by about 1,150 MB (the peak is the index build, when the
# freshly written segment and the indexed one it becomes are both mapped; about 600 MB before it),
# and the store took about 340 MB on disk once optimised (about 710 MB before, WAL and the
# unindexed segment included). The bounds leave 1.7x / 2x of that for another engine version,
# allocator or file system, and still fail a store whose memory or disk per chunk doubled.
RSS_GROWTH_BOUND_MB = 2000
DISK_BOUND_MB = 700

PLANTED = ("The Reykjavik branch reimburses studded winter tyres for bicycles up to 85 euros per "
           "employee each November, provided the receipt names the shop and the bicycle is used for commuting.")
QUESTION = "How much does the Reykjavik branch pay towards winter bicycle tyres?"

SUBJECTS = ["travel", "expenses", "leave", "security", "procurement", "training", "overtime", "parking",
            "laptops", "contracts", "invoices", "archiving", "visitors", "pensions", "insurance"]
VERBS = ["must be approved by", "is reviewed each quarter by", "is recorded by", "is reported to", "is signed off by"]
OWNERS = ["the line manager", "the finance team", "the works council", "the data protection officer",
          "the head of office"]
DETAILS = ["within ten working days", "before the end of the month", "with the original receipts attached",
           "using the shared form", "after a second review", "unless the amount is below 50 euros"]


def generated_passages(count: int) -> list[str]:
    """COUNT policy-like passages of about 150 words, seeded."""
    rng = random.Random(16)
    passages = []
    for n in range(count):
        subject = SUBJECTS[n % len(SUBJECTS)]
        sentences = [f"Section {n} covers {subject} for office {n % 37}."]
        while sum(len(s.split()) for s in sentences) < 150:
            sentences.append(f"Every request about {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OWNERS)} "
                             f"{rng.choice(DETAILS)}, and a copy {rng.choice(VERBS)} {rng.choice(OWNERS)}.")
        passages.append(" ".join(sentences))
    return passages


def collection_of(i: int) -> str:
    return COLLECTIONS[(i // 40) % len(COLLECTIONS)]  # documents of 40 chunks, round-robin over collections


def sensitivity_of(i: int) -> str:
    return LEVELS[i % 7 % len(LEVELS)]


def point(i: int, vector, text: str, keywords: KeywordEncoder, collection: str | None = None,
          sensitivity: str | None = None) -> ChunkPoint:
    return ChunkPoint(
        chunk_id=f"chunk-{i}", vector=vector, collection=collection or collection_of(i),
        document_id=f"document-{i // 40}",
        keywords=keywords.embed_passage(text),
        payload={"text": text, "section": f"Part {i % 5} > Section {i % 40}", "page": i % 40 // 3 + 1,
                 "sensitivity": sensitivity or sensitivity_of(i), "filename": f"document-{i // 40}.docx", "version": 1},
    )


def perturbed(vectors: np.ndarray, rng) -> np.ndarray:
    moved = vectors + rng.normal(scale=0.1 / np.sqrt(vectors.shape[1]), size=vectors.shape).astype(np.float32)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def resident_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def reset_peak_memory() -> None:
    """Start VmHWM again from the current RSS (Linux: proc(5), clear_refs value 5), so the peak
    measured is this test's, not that of whatever ran earlier in the process."""
    Path("/proc/self/clear_refs").write_text("5")


def disk_mb(path: Path) -> float:
    """Bytes the store's files occupy on disk (allocated blocks, not apparent sizes), in MB."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


@pytest.fixture(scope="module")
def embedder():
    embedder = Embedder.from_settings()
    embedder.warm_up()
    return embedder


def test_it_keeps_grants_finds_a_known_passage_and_stays_in_budget_at_100k_chunks(tmp_path, embedder):
    keywords = KeywordEncoder()
    passages = generated_passages(PASSAGES)
    sources = embedder.embed(passages)
    planted_vector, question_vector = embedder.embed([PLANTED, QUESTION])
    rng = np.random.default_rng(16)

    before = resident_mb()["VmRSS"]
    reset_peak_memory()
    store = EdgeStore(tmp_path / "edge")
    for start in range(0, CHUNKS, BATCH):
        index = range(start, start + BATCH)
        vectors = perturbed(sources[[i % PASSAGES for i in index]], rng)
        store.upsert([point(i, vector, f"{passages[i % PASSAGES]} Record {i}.", keywords)
                      for i, vector in zip(index, vectors)])
    # The planted passage, once where the analyst is granted, once in a collection they are not.
    store.upsert([point(CHUNKS, planted_vector, PLANTED, keywords, "collection-3", "confidential"),
                  point(CHUNKS + 1, planted_vector, PLANTED, keywords, "collection-4", "restricted")])
    store.optimize()

    planted = store.search(question_vector, collections=["collection-3"], limit=5,
                           keywords=keywords.embed_question(QUESTION))
    questions = [f"Who approves {subject} requests for office {n}?" for n, subject in enumerate(SUBJECTS * 4)]
    granted = [COLLECTIONS[n % 10:n % 10 + 1 + n % 2] for n in range(len(questions))]  # one or two collections
    latencies, short, stray, mislabelled = [], [], [], []
    for question, vector, collections in zip(questions, embedder.embed(questions), granted):
        started = time.perf_counter()  # recorded, never asserted
        hits = store.search(vector, collections=collections, limit=5, keywords=keywords.embed_question(question))
        latencies.append((time.perf_counter() - started) * 1000)
        short += [question] if len(hits) < 5 else []
        stray += [hit.chunk_id for hit in hits if hit.collection not in collections]
        mislabelled += [hit.chunk_id for hit in hits if hit.chunk_id.startswith("chunk-")
                        and hit.payload["sensitivity"] != sensitivity_of(int(hit.chunk_id.split("-")[1]))]
    count = store.count()
    store.close()
    memory = resident_mb()
    growth, size = memory["VmHWM"] - before, disk_mb(tmp_path / "edge")
    record(growth, size, latencies)

    assert count == CHUNKS + 2
    found = {hit.chunk_id: hit for hit in planted}
    assert f"chunk-{CHUNKS}" in found, "the planted passage is not among the top 5 of its collection"
    assert found[f"chunk-{CHUNKS}"].payload["sensitivity"] == "confidential"
    assert {hit.collection for hit in planted} == {"collection-3"}  # its twin in collection-4 stays out
    assert short == []  # every granted collection holds 10,000 chunks: five hits each time
    assert stray == []
    assert mislabelled == []
    assert growth < RSS_GROWTH_BOUND_MB, f"peak RSS grew by {growth:.0f} MB for {CHUNKS:,} chunks"
    assert size < DISK_BOUND_MB, f"the store takes {size:.0f} MB on disk for {CHUNKS:,} chunks"


def record(growth: float, size: float, latencies: list[float]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scale-100k.json").write_text(json.dumps({
        "chunks": CHUNKS + 2, "rss_growth_mb": round(growth, 1), "disk_mb": round(size, 1),
        "hybrid_search_ms": {"queries": len(latencies), "p50": round(statistics.median(latencies), 2),
                             "p95": round(float(np.percentile(latencies, 95)), 2)},
        "note": "recorded, not asserted; see docs/scaling.md for the benchmark",
    }, indent=2) + "\n")
