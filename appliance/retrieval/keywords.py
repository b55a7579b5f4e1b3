"""Keyword vectors: BM25 sparse vectors, so that retrieval finds the exact words of a question
("Saturday", "EUR 220", "§ 3") that a meaning vector blurs.

    encoder = KeywordEncoder()
    encoder.embed_passage("Annual leave is 28 days.")      # Keywords(indices=(...), values=(...))
    encoder.embed_question("How many days of leave?")

The vectors come from Qdrant Edge's built-in BM25 embedder (English stop words and stemming): a
passage's term weights carry BM25's term-frequency saturation and length normalisation, a
question's terms weigh 1 each, and the vector store multiplies in each term's inverse document
frequency (the IDF modifier), which it keeps up to date as chunks come and go. The embedder is
the same for both store adapters: its vectors use Qdrant server's own token ids and formula, so
a Qdrant server scores them the same way.
"""
from dataclasses import dataclass

import qdrant_edge as edge

# Qdrant's BM25 defaults, but for the length of an average passage: chunks aim at 160 words
# (ingest/chunking.py), about 100 tokens once stop words are gone.
AVERAGE_PASSAGE_TOKENS = 100.0


@dataclass(frozen=True)
class Keywords:
    """A sparse vector: token ids and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self):
        if len(self.indices) != len(self.values):
            raise ValueError(f"{len(self.indices)} indices but {len(self.values)} values")

    @property
    def is_empty(self) -> bool:
        return not self.indices


class KeywordEncoder:
    def __init__(self, *, language: str = "english", average_passage_tokens: float = AVERAGE_PASSAGE_TOKENS):
        if average_passage_tokens <= 0:
            raise ValueError(f"average_passage_tokens must be positive, got {average_passage_tokens}")
        try:
            self._bm25 = edge.Bm25(edge.Bm25Config(language=language, avg_len=average_passage_tokens))
        except ValueError as error:
            raise ValueError(f"BM25 language {language!r} is not supported: {error}") from error

    def warm_up(self) -> None:
        self.embed_question("warm up")

    def embed_passage(self, text: str) -> Keywords:
        return _keywords(self._bm25.embed_document(text))

    def embed_question(self, text: str) -> Keywords:
        return _keywords(self._bm25.embed_query(text))


def _keywords(vector) -> Keywords:
    return Keywords(tuple(vector.indices), tuple(vector.values))
