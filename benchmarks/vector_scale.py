"""Qdrant Edge at 10k, 100k and 1M chunks through the appliance's own adapter (EdgeStore): RAM,
disk, upsert and HNSW build time, filtered search latency and recall against exact search.

    nice -n 19 .venv/bin/python benchmarks/vector_scale.py [--sizes 10000 100000 1000000]
        [--layouts appliance on-disk] [--queries 200] [--json results.json]

What is stored is shaped like the product's chunks (ingest/indexing.py: to_point): a text
payload of ~150 words, section, page, filename, version and sensitivity, a content-hash chunk id,
documents of 40 chunks spread over 10 collections, and real BM25 keyword vectors from the
appliance's KeywordEncoder. The meaning vectors are SYNTHETIC: embedding a million chunks with
MiniLM at ~60 chunks/s would take about 5 hours on this machine. They are seeded, unit-length
384-d vectors drawn around 2,000 topic centres (a chunk's text is about the same topic), so
they cluster as real embeddings do; uniformly random vectors would be a harder case for HNSW
than any real corpus.

Each (size, layout) runs in two fresh child processes, so that each figure is that process's own:
- build: writes the chunks in batches of 1,000 (upsert), then one optimize() (the HNSW and
  sparse index build), closes; reports peak RSS, disk size, times;
- serve: opens the store as a restarted worker would, runs the queries, reports RSS after
  loading and after searching, latency, and recall of the filtered search against exact brute
  force (numpy) over the same collection.

Searches are what retrieval runs (appliance/retrieval/searching.py): granted collections
filtered inside the query, limit 5 (ANSWERING_PASSAGES), hybrid (meaning + BM25 keywords fused
by RRF). Retrieval filters by collection only; sensitivity is carried in the payload and
decides the route after retrieval, so it is stored but not filtered on here either.

Layouts:
- appliance: EdgeStore exactly as shipped;
- on-disk: the same adapter with dense vectors, HNSW graph, sparse index and payloads on disk
  (memory=Cold: not pre-loaded; the OS page cache holds what searches touch).
"""
import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APPLIANCE_DATA_DIR", tempfile.mkdtemp(prefix="appliance-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

import qdrant_edge as edge  # noqa: E402

from appliance.retrieval.edge_store import EdgeStore  # noqa: E402
from appliance.retrieval.keywords import KeywordEncoder, Keywords  # noqa: E402
from appliance.retrieval.store import DIMENSION, KEYWORDS, MEANING, ChunkPoint  # noqa: E402

COLLECTIONS = [f"collection-{i}" for i in range(10)]
CHUNKS_PER_DOCUMENT = 40
TOPICS = 2000
BATCH = 1000
LIMIT = 5  # ANSWERING_PASSAGES
SENSITIVITIES = ("public", "internal", "confidential", "restricted")
SEED = 20261201


# ---------------------------------------------------------------------------- synthetic corpus


class Corpus:
    """Chunk i, deterministically: its topic, collection, document, text and meaning vector.
    Everything is a function of (SEED, i) or of (SEED, batch number), so a later process can
    regenerate exactly what an earlier one stored."""

    def __init__(self):
        rng = np.random.default_rng(SEED)
        syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["an", "er", "in", "on", "or", "st", "th"]
        lengths = rng.integers(2, 5, size=6000)
        self.vocabulary = np.array(sorted({"".join(rng.choice(syllables, size=n)) for n in lengths}))
        self.common = rng.zipf(1.3, size=400_000) % len(self.vocabulary)  # a Zipf-shaped pool of common words
        self.topic_words = rng.integers(0, len(self.vocabulary), size=(TOPICS, 25))
        centres = rng.normal(size=(TOPICS, DIMENSION)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    @staticmethod
    def collection_of(index: np.ndarray) -> np.ndarray:
        return (index // CHUNKS_PER_DOCUMENT) % len(COLLECTIONS)

    @staticmethod
    def topic_of(index: np.ndarray) -> np.ndarray:
        # A document keeps to a few neighbouring topics, as a real document does.
        return ((index // CHUNKS_PER_DOCUMENT) * 7919 + (index % CHUNKS_PER_DOCUMENT) // 8) % TOPICS

    def vectors(self, start: int, stop: int) -> np.ndarray:
        """Meaning vectors of chunks START..STOP-1 (STOP - START <= BATCH, START a multiple of BATCH)."""
        rng = np.random.default_rng([SEED, start // BATCH])
        index = np.arange(start, stop)
        noise = rng.normal(scale=0.9 / np.sqrt(DIMENSION), size=(len(index), DIMENSION)).astype(np.float32)
        vectors = self.centres[self.topic_of(index)] + noise
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def texts(self, start: int, stop: int) -> list[str]:
        rng = np.random.default_rng([SEED, 1, start // BATCH])
        count = stop - start
        common = self.common[rng.integers(0, len(self.common), size=(count, 150))]
        topics = self.topic_of(np.arange(start, stop))[:, None]
        topical = self.topic_words[topics, rng.integers(0, 25, size=(count, 150))]
        words = np.where(rng.random(size=(count, 150)) < 0.3, topical, common)
        return [" ".join(self.vocabulary[row]) + "." for row in words]

    def points(self, start: int, stop: int, encoder: KeywordEncoder | None) -> list[ChunkPoint]:
        vectors, texts = self.vectors(start, stop), self.texts(start, stop)
        points = []
        for offset, (vector, text) in enumerate(zip(vectors, texts)):
            i = start + offset
            document = i // CHUNKS_PER_DOCUMENT
            points.append(ChunkPoint(
                chunk_id=hashlib.sha256(f"{SEED}:{i}".encode()).hexdigest(),
                vector=vector,
                collection=COLLECTIONS[document % len(COLLECTIONS)],
                document_id=f"document-{document}",
                keywords=encoder.embed_passage(text) if encoder else Keywords((), ()),
                payload={"text": text, "section": f"Part {i % 7} > Section {i % 40}", "page": i % 40 // 3 + 1,
                         "sensitivity": SENSITIVITIES[i % 13 % 4], "filename": f"document-{document}.docx",
                         "version": 1},
            ))
        return points

    def queries(self, count: int) -> tuple[np.ndarray, list[str]]:
        """COUNT questions: a vector near one topic's centre (as a question is near its passages,
        not on them) and a few of that topic's words."""
        rng = np.random.default_rng([SEED, 2])
        topics = rng.integers(0, TOPICS, size=count)
        noise = rng.normal(scale=1.0 / np.sqrt(DIMENSION), size=(count, DIMENSION)).astype(np.float32)
        vectors = self.centres[topics] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        texts = [" ".join(self.vocabulary[self.topic_words[t, rng.integers(0, 25, size=4)]]) for t in topics]
        return vectors.astype(np.float32), texts


# ---------------------------------------------------------------------------- layouts


class OnDiskStore(EdgeStore):
    """The appliance's adapter with every part of its shard left on disk: memory=Cold (not
    pre-loaded, cached by the OS as searches touch it) for the dense vectors, the HNSW graph,
    the sparse index and the payloads. Everything else is EdgeStore's."""

    def _create(self) -> edge.EdgeShard:
        cold = edge.Memory.Cold
        config = edge.EdgeConfig(
            vectors={MEANING: edge.EdgeVectorParams(
                size=self.dimension, distance=edge.Distance.Cosine, memory=cold,
                # Qdrant's defaults (m 16, ef_construct 100, full scan under 10,000 KB), graph left on disk.
                hnsw_config=edge.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000, memory=cold))},
            sparse_vectors={KEYWORDS: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf, memory=cold)},
            payload_memory=cold,
        )
        shard = edge.EdgeShard.create(str(self.path), config)
        shard.update(edge.UpdateOperation.create_field_index("collection", edge.KeywordIndexParams(is_tenant=True)))
        shard.update(edge.UpdateOperation.create_field_index("document_id", edge.PayloadSchemaType.Keyword))
        return shard


LAYOUTS = {"appliance": EdgeStore, "on-disk": OnDiskStore}


# ---------------------------------------------------------------------------- measuring


def memory() -> dict:
    """This process's resident memory in MB: now, at its peak, and now split into anonymous
    memory (heap) and file-backed pages (mmap'd store files the OS can drop and read again)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"], "anon_mb": fields["RssAnon"],
            "file_mb": fields["RssFile"]}


def disk_mb(path: Path) -> dict:
    files = [p for p in path.rglob("*") if p.is_file()]
    return {"disk_mb": round(sum(p.stat().st_blocks * 512 for p in files) / 1e6, 1),
            "apparent_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1)}


def build(size: int, layout: str, path: Path, keywords: bool) -> dict:
    baseline = memory()
    corpus, encoder = Corpus(), KeywordEncoder() if keywords else None
    store = LAYOUTS[layout](path)
    generate = upsert = upsert_cpu = 0.0
    for start in range(0, size, BATCH):
        started = time.perf_counter()
        points = corpus.points(start, min(start + BATCH, size), encoder)
        generate += time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        store.upsert(points)
        upsert += time.perf_counter() - started
        upsert_cpu += time.process_time() - cpu
        if (start + BATCH) % 100_000 == 0 or start + BATCH >= size:
            # Said as it goes, so that a run stopped early (or during the index build) leaves these figures.
            print(f"  {layout} {size:,}: {start + BATCH:,} written, upsert {upsert:.0f} s ({upsert_cpu:.0f} s CPU), "
                  f"{json.dumps(memory())}, {json.dumps(disk_mb(path))}, load {os.getloadavg()[0]:.2f}",
                  file=sys.stderr, flush=True)
    written = memory()
    started, cpu = time.perf_counter(), time.process_time()
    store.optimize()
    optimize, optimize_cpu = time.perf_counter() - started, time.process_time() - cpu
    segments = store.shard.info().segments_count
    count = store.count()
    store.close()
    return {"size": size, "layout": layout, "count": count, "segments": segments, "generate_s": round(generate, 1),
            "upsert_s": round(upsert, 1), "upsert_cpu_s": round(upsert_cpu, 1), "optimize_s": round(optimize, 1),
            "optimize_cpu_s": round(optimize_cpu, 1), "build_load_1min": round(os.getloadavg()[0], 2),
            "baseline_rss_mb": baseline["rss_mb"],
            "rss_after_upsert_mb": written["rss_mb"], **{f"build_{k}": v for k, v in memory().items()}, **disk_mb(path)}


def percentile(values: list[float], fraction: float) -> float:
    return float(np.percentile(values, fraction * 100))


def serve(size: int, layout: str, path: Path, query_count: int) -> dict:
    corpus, encoder = Corpus(), KeywordEncoder()
    baseline = memory()
    store = LAYOUTS[layout](path)
    loaded = memory()
    vectors, texts = corpus.queries(query_count)
    granted = COLLECTIONS[:1]  # one collection of ten: 10% of the chunks
    question_keywords = [encoder.embed_question(text) for text in texts]
    result = {"size": size, "layout": layout, "queries": query_count, "serve_baseline_rss_mb": baseline["rss_mb"],
              "rss_after_load_mb": loaded["rss_mb"]}
    found = []
    for name, collections, hybrid in (("dense_1of10", granted, False), ("hybrid_1of10", granted, True),
                                      ("hybrid_all", COLLECTIONS, True)):
        store.search(vectors[0], collections=collections, limit=LIMIT,
                     keywords=question_keywords[0] if hybrid else None)  # warm caches
        timings, cpu_timings = [], []
        for vector, words in zip(vectors, question_keywords):
            started, cpu = time.perf_counter(), time.process_time()
            hits = store.search(vector, collections=collections, limit=LIMIT, keywords=words if hybrid else None)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu) * 1000)
            if name == "dense_1of10":
                found.append([hit.chunk_id for hit in hits])
            assert all(hit.collection in collections for hit in hits)
        result[f"{name}_p50_ms"] = round(statistics.median(timings), 2)
        result[f"{name}_p95_ms"] = round(percentile(timings, 0.95), 2)
        # CPU time of this process per search: what the search costs, whatever else the machine runs.
        result[f"{name}_cpu_p50_ms"] = round(statistics.median(cpu_timings), 2)
        result[f"{name}_cpu_p95_ms"] = round(percentile(cpu_timings, 0.95), 2)
    result.update({f"serve_{k}": v for k, v in memory().items()}, serve_load_1min=round(os.getloadavg()[0], 2))
    store.close()
    result["recall_at_5"] = round(recall(corpus, size, vectors, found, granted), 3)
    return result


def recall(corpus: Corpus, size: int, queries: np.ndarray, found: list[list[str]], granted: list[str]) -> float:
    """Share of the exact top LIMIT (brute force over the granted collection) that the HNSW search returned."""
    wanted = {COLLECTIONS.index(name) for name in granted}
    best_scores = np.full((len(queries), LIMIT), -2.0, dtype=np.float32)
    best_index = np.zeros((len(queries), LIMIT), dtype=np.int64)
    for start in range(0, size, BATCH):
        stop = min(start + BATCH, size)
        index = np.arange(start, stop)
        keep = np.isin(corpus.collection_of(index), list(wanted))
        if not keep.any():
            continue
        scores = queries @ corpus.vectors(start, stop)[keep].T
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_index = np.concatenate([best_index, np.broadcast_to(index[keep], scores.shape)], axis=1)
        top = np.argsort(-merged_scores, axis=1)[:, :LIMIT]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_index = np.take_along_axis(merged_index, top, axis=1)
    exact = [{hashlib.sha256(f"{SEED}:{i}".encode()).hexdigest() for i in row} for row in best_index]
    return sum(len(e & set(f)) for e, f in zip(exact, found)) / sum(len(e) for e in exact)


# ---------------------------------------------------------------------------- driver


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    total = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal")))
    return (f"{os.cpu_count()} cores ({cpu}), {total / 1024 / 1024:.0f} GB RAM, Python {platform.python_version()}, "
            f"Linux {platform.release()}")


def run_child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--layouts", nargs="+", choices=sorted(LAYOUTS), default=["appliance", "on-disk"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-keywords", action="store_true", help="store chunks without BM25 keyword vectors")
    parser.add_argument("--json", type=Path, help="append each result as a JSON line to this file")
    parser.add_argument("--workdir", type=Path, help="where the stores go (default: a temporary directory)")
    parser.add_argument("--child", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, layout = args.sizes[0], args.layouts[0]
        result = (build(size, layout, args.path, not args.no_keywords) if args.child == "build"
                  else serve(size, layout, args.path, args.queries))
        print(json.dumps(result))
        return
    print(f"machine: {machine()}", file=sys.stderr)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vector-scale-"))
    print("| chunks | layout | upsert s (CPU s) | HNSW build s (CPU s) | peak RSS build MB | disk MB "
          "| RSS serving MB (anon + file) | dense 1/10 p95 ms | hybrid 1/10 p50 / p95 ms (CPU p95) "
          "| hybrid all p95 ms | recall@5 | load build / serve |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        for layout in args.layouts:
            path = workdir / f"{layout}-{size}"
            common = ["--sizes", str(size), "--layouts", layout, "--path", str(path), "--queries", str(args.queries)]
            built = run_child("--child", "build", *common, *(["--no-keywords"] if args.no_keywords else []))
            served = run_child("--child", "serve", *common)
            result = {**built, **served, "keywords": not args.no_keywords}
            if args.json:
                with args.json.open("a") as out:
                    out.write(json.dumps(result) + "\n")
            print(f"| {size:,} | {layout} | {result['upsert_s']} ({result['upsert_cpu_s']}) | {result['optimize_s']} "
                  f"({result['optimize_cpu_s']}) | {result['build_peak_rss_mb']:,.0f} | {result['disk_mb']:,.0f} "
                  f"| {result['serve_rss_mb']:,.0f} ({result['serve_anon_mb']:,.0f} + {result['serve_file_mb']:,.0f}) "
                  f"| {result['dense_1of10_p95_ms']} | {result['hybrid_1of10_p50_ms']} / "
                  f"{result['hybrid_1of10_p95_ms']} "
                  f"({result['hybrid_1of10_cpu_p95_ms']}) | {result['hybrid_all_p95_ms']} | {result['recall_at_5']} "
                  f"| {result['build_load_1min']} / {result['serve_load_1min']} |", flush=True)
            if not args.workdir:
                subprocess.run(["rm", "-rf", str(path)], check=True)


if __name__ == "__main__":
    main()
