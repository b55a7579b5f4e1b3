"""Sentence embeddings with all-MiniLM-L6-v2, loaded from disk only (never from a hub)."""
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class Embedder:
    """Turns texts into unit-length 384-d vectors. Call warm_up() once per process (worker start)."""

    dimension = 384

    def __init__(self, model_dir: Path, batch_size: int = 64):
        if not (Path(model_dir) / "config.json").is_file():
            raise ValueError(f"embedding model directory {model_dir} has no config.json")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
            dimension = self._model.get_embedding_dimension()
            if dimension != self.dimension:
                raise ValueError(f"embedding model at {self.model_dir} makes {dimension}-d vectors, expected {self.dimension}")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Returns a float32 array of shape (len(texts), 384), each row of unit length."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.astype(np.float32, copy=False)
