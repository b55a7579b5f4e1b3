"""Search latency of both vector store adapters at 10k and 100k random 384-d vectors.

    .venv/bin/python benchmarks/vector_search.py [--sizes 10000 100000]

Measures through the appliance's own adapters (port overhead included): Qdrant Edge in-process
(after optimize(), i.e. with its HNSW index) and qdrant-client in local mode, the in-process
stand-in for a Qdrant server that the contract tests use. Points are spread evenly over 10
collections; "filtered" searches one collection (10% of the points), as a user granted one
collection would. Prints a Markdown table for docs/benchmarks.md.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APPLIANCE_DATA_DIR", tempfile.mkdtemp(prefix="appliance-bench-"))

from qdrant_client import QdrantClient  # noqa: E402

from appliance.retrieval.edge_store import EdgeStore  # noqa: E402
from appliance.retrieval.server_store import ServerStore  # noqa: E402
from appliance.retrieval.store import ChunkPoint  # noqa: E402

COLLECTIONS = [f"collection-{i}" for i in range(10)]
warnings.filterwarnings("ignore", "Payload indexes have no effect in the local Qdrant")
warnings.filterwarnings("ignore", "Local mode is not recommended")


def unit_vectors(count: int, rng) -> np.ndarray:
    vectors = rng.normal(size=(count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(store, vectors: np.ndarray) -> float:
    started = time.perf_counter()
    for start in range(0, len(vectors), 1000):
        store.upsert(
            [
                ChunkPoint(f"chunk-{i}", vectors[i], COLLECTIONS[i % 10], f"doc-{i // 20}", {"page": i % 50})
                for i in range(start, min(start + 1000, len(vectors)))
            ]
        )
    store.optimize()
    return time.perf_counter() - started


def latencies_ms(store, queries: np.ndarray, collections: list[str]) -> list[float]:
    store.search(queries[0], collections=collections, limit=10)  # warm caches
    timings = []
    for query in queries:
        started = time.perf_counter()
        store.search(query, collections=collections, limit=10)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def measure(name, store, size, query_count, rng):
    build = fill(store, unit_vectors(size, rng))
    queries = unit_vectors(query_count, rng)
    rows = []
    for label, collections in (("all 10 collections", COLLECTIONS), ("1 collection (10%)", COLLECTIONS[:1])):
        timings = latencies_ms(store, queries, collections)
        rows.append(
            f"| {name} | {size:,} | {label} | {len(timings)} | {statistics.median(timings):.2f} | {p95(timings):.2f} | {build:.1f} |"
        )
    store.close()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    print("| adapter | vectors | search scope | queries | p50 ms | p95 ms | load + index s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as workdir:
            for row in measure("Qdrant Edge", EdgeStore(Path(workdir) / "edge"), size, 500, rng):
                print(row, flush=True)
        # Local mode scans every point in Python: few queries at 100k keep the run short.
        local = ServerStore(QdrantClient(location=":memory:"), "bench")
        for row in measure("qdrant-client local mode", local, size, 100 if size <= 10_000 else 20, rng):
            print(row, flush=True)


if __name__ == "__main__":
    main()
