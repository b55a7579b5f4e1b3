"""How the passage embedder is run: model (fp32 or the int8 copy), texts per call, ONNX Runtime threads.

    .venv/bin/python benchmarks/passage_embedding.py [--passages 256]

Embeds synthetic ~150-word business paragraphs (those of benchmarks/ingest_throughput.py) with the
shipped ONNX files each way and prints passages per CPU-second of this process (what a core
spends, robust to a shared machine) and per wall-clock second, with the load average. The
appliance embeds passages with the int8 copy, one text per call, on one thread
(appliance/retrieval/embedding.py, Embedder.for_passages_from_settings).
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")
os.environ["HF_HUB_OFFLINE"] = "1"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from appliance.retrieval.embedding import Embedder  # noqa: E402
from benchmarks.ingest_throughput import paragraph  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=256)
    args = parser.parse_args()
    rng = random.Random(1)
    texts = [paragraph(rng, index) for index in range(args.passages)]
    print(f"{len(texts)} passages, {os.cpu_count()} CPU cores, load average at start {os.getloadavg()}\n")
    print("| model | threads | texts per call | passages per CPU-second | per wall second | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    models = (("fp32", settings.RETRIEVAL_EMBEDDING_ONNX), ("int8 per channel", settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX))
    for name, path in models:
        for threads in (1, 0):
            for batch_size in (1, 4, 64):
                embedder = Embedder(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, path, batch_size=batch_size, threads=threads)
                embedder.embed(texts[:8])
                cpu, wall = time.process_time(), time.perf_counter()
                embedder.embed(texts)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                print(f"| {name} | {threads or 'one per core'} | {batch_size} | {len(texts) / cpu:.1f} | "
                      f"{len(texts) / wall:.1f} | {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
