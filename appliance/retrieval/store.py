"""The vector store port: what the appliance needs from a vector database, and nothing more.

Two adapters implement it: Qdrant Edge in-process (edge_store.py, the embedded default) and a
Qdrant server through qdrant-client (server_store.py, when QDRANT_URL is set). Both keep every
chunk of every collection in one Qdrant collection/shard, with the appliance collection as a
tenant key, and both filter by granted collections inside the vector query (never afterwards).

Each chunk has two vectors: its meaning (MiniLM, dense, cosine) and its keywords (BM25, sparse,
with the store's IDF). A search with keywords is hybrid: one query whose two prefetches (the
nearest by meaning, the best by keywords, each with the grant filter inside it) are fused by
reciprocal rank fusion, so a chunk ranked high by either comes up.
"""
import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from appliance.errors import StoreUnavailable
from appliance.retrieval.keywords import Keywords

DIMENSION = 384
MEANING, KEYWORDS = "meaning", "keywords"  # the two named vectors of every chunk
# Reciprocal rank fusion: score = sum over prefetches of 1 / (RRF_K + rank). 60 is the value of
# the paper that introduced it (Cormack et al., 2009) and keeps one list's top hit from
# drowning what both lists rank well. Each prefetch looks this many times deeper than the answer.
RRF_K = 60
PREFETCH_DEPTH = 4


@dataclass(frozen=True)
class ChunkPoint:
    """A chunk to store: its content-hash id, its vector and what search results must carry."""

    chunk_id: str
    vector: Sequence[float]
    collection: str
    document_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    keywords: Keywords = Keywords((), ())


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: str
    score: float
    collection: str
    document_id: str
    payload: Mapping[str, Any]


def point_id(collection: str, chunk_id: str) -> str:
    """The store's id for a chunk: derived from its content hash, so a retried write replaces
    rather than duplicates; scoped to its collection, so equal text in two collections is two points."""
    digest = hashlib.sha256(f"{collection}\x00{chunk_id}".encode()).hexdigest()
    return str(uuid.UUID(hex=digest[:32]))


def to_payload(point: ChunkPoint) -> dict:
    reserved = {"chunk_id", "collection", "document_id"} & set(point.payload)
    if reserved:
        raise ValueError(f"payload keys {sorted(reserved)} are reserved by the vector store")
    return {**point.payload, "chunk_id": point.chunk_id, "collection": point.collection, "document_id": point.document_id}


def to_hit(score: float, payload: Mapping[str, Any]) -> ChunkHit:
    extra = {key: value for key, value in payload.items() if key not in ("chunk_id", "collection", "document_id")}
    return ChunkHit(payload["chunk_id"], float(score), payload["collection"], payload["document_id"], extra)


class VectorStore(ABC):
    """Checks arguments once for both adapters; the adapters only talk to their engine."""

    dimension = DIMENSION

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        """Insert or replace POINTS (same collection + chunk id = same point)."""
        for point in points:
            self._check_vector(point.vector)
        if points:
            self._upsert(points)

    def search(self, vector: Sequence[float], *, collections: Sequence[str], limit: int,
               keywords: Keywords | None = None) -> list[ChunkHit]:
        """The LIMIT best chunks among COLLECTIONS only, best first. No collections -> no hits.
        Without KEYWORDS (or with none left after stop words), by meaning alone, scored by cosine;
        with them, hybrid, scored by reciprocal rank fusion."""
        self._check_vector(vector)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not collections:
            return []
        if keywords is None or keywords.is_empty:
            return self._search(vector, list(collections), limit)
        return self._hybrid_search(vector, keywords, list(collections), limit)

    def delete_document(self, collection: str, document_id: str) -> None:
        self._delete({"collection": collection, "document_id": document_id})

    def delete_collection(self, collection: str) -> None:
        self._delete({"collection": collection})

    def count(self, collections: Sequence[str] | None = None) -> int:
        return self._count(None if collections is None else list(collections))

    def optimize(self) -> None:
        """Build indexes after a bulk write, blocking until done. A server does this on its own."""

    def _check_vector(self, vector: Sequence[float]) -> None:
        if len(vector) != self.dimension:
            raise ValueError(f"vector has {len(vector)} dimensions, the store holds {self.dimension}")

    @abstractmethod
    def _upsert(self, points: Sequence[ChunkPoint]) -> None: ...

    @abstractmethod
    def _search(self, vector: Sequence[float], collections: list[str], limit: int) -> list[ChunkHit]: ...

    @abstractmethod
    def _hybrid_search(self, vector: Sequence[float], keywords: Keywords, collections: list[str],
                       limit: int) -> list[ChunkHit]: ...

    @abstractmethod
    def _delete(self, match: dict[str, str]) -> None: ...

    @abstractmethod
    def _count(self, collections: list[str] | None) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


class StoreOutdated(StoreUnavailable):
    """The store was built by an earlier version of the appliance (meaning vectors only)."""

    code = "store_outdated"

    def __init__(self, where: str):
        super().__init__(
            f"The vector store at {where} was built by an earlier version of the appliance, without keyword "
            "vectors. Rebuild it with `python manage.py reindex --all` (documents stay; their chunks are indexed again).",
            code=self.code, permanent=True,
        )


def open_store(*, rebuild: bool = False) -> VectorStore:
    """The configured store: a Qdrant server when QDRANT_URL is set, else Qdrant Edge in the data dir.
    With REBUILD, whatever the store held is dropped first and an empty one is made.

    Raises StoreUnavailable when the embedded store is held by another process, StoreOutdated
    when it was built by an earlier version (see `manage.py reindex --all`).
    """
    if settings.QDRANT_URL:
        from qdrant_client import QdrantClient

        from appliance.retrieval.server_store import ServerStore

        client = QdrantClient(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY or None, timeout=30)
        return ServerStore(client, settings.RETRIEVAL_QDRANT_COLLECTION, rebuild=rebuild)
    from appliance.retrieval.edge_store import EdgeStore

    return EdgeStore(settings.RETRIEVAL_EDGE_PATH, rebuild=rebuild)
