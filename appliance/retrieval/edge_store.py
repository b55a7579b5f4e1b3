"""Qdrant Edge adapter: the Qdrant engine in this process, one shard directory under the data dir.

Only one process may open a shard (its WAL is locked). In embedded mode that process is the
Celery worker; anything else that tries gets StoreUnavailable saying so.
"""
import shutil
from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as edge

from appliance.errors import StoreUnavailable
from appliance.retrieval.keywords import Keywords
from appliance.retrieval.store import (
    KEYWORDS, MEANING, PREFETCH_DEPTH, RRF_K, ChunkHit, ChunkPoint, StoreOutdated, VectorStore, point_id, to_hit,
    to_payload,
)


class EdgeStore(VectorStore):
    def __init__(self, path: Path, *, rebuild: bool = False):
        self.path = Path(path)
        try:
            if self.path.is_dir() and any(self.path.iterdir()):
                self.shard = edge.EdgeShard.load(str(self.path))
                if rebuild:
                    self.shard.close()
                    shutil.rmtree(self.path)
                    self.shard = self._create()
                else:
                    self._check_schema()
            else:
                self.shard = self._create()
        except StoreOutdated:
            self.shard.close()
            raise
        except Exception as error:
            if "WouldBlock" in str(error):
                raise StoreUnavailable(
                    f"The embedded vector store at {self.path} is open in another process, usually the "
                    "running Celery worker. Stop the worker, or send this work through it.",
                    code="store_busy",
                    permanent=False,
                ) from error
            raise

    def _create(self) -> edge.EdgeShard:
        config = edge.EdgeConfig(
            vectors={MEANING: edge.EdgeVectorParams(size=self.dimension, distance=edge.Distance.Cosine)},
            sparse_vectors={KEYWORDS: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
        )
        shard = edge.EdgeShard.create(str(self.path), config)
        # The collection is the tenant key: filtered search walks only that tenant's graph.
        shard.update(edge.UpdateOperation.create_field_index("collection", edge.KeywordIndexParams(is_tenant=True)))
        shard.update(edge.UpdateOperation.create_field_index("document_id", edge.PayloadSchemaType.Keyword))
        return shard

    def _check_schema(self) -> None:
        """Raises StoreOutdated for a shard without the keyword vectors (built before hybrid search)."""
        probe = edge.QueryRequest(limit=1, query=edge.Query.Nearest(edge.SparseVector([0], [1.0]), using=KEYWORDS))
        try:
            self.shard.query(probe)
        except Exception as error:
            raise StoreOutdated(str(self.path)) from error

    def _upsert(self, points: Sequence[ChunkPoint]) -> None:
        self.shard.update(
            edge.UpdateOperation.upsert_points([
                edge.Point(
                    point_id(p.collection, p.chunk_id),
                    {MEANING: list(map(float, p.vector)), KEYWORDS: _sparse(p.keywords)},
                    to_payload(p),
                )
                for p in points
            ])
        )

    def _search(self, vector: Sequence[float], collections: list[str], limit: int) -> list[ChunkHit]:
        request = edge.QueryRequest(
            limit=limit,
            query=edge.Query.Nearest(list(map(float, vector)), using=MEANING),
            filter=_collections_filter(collections),
            with_payload=True,
        )
        return [to_hit(point.score, point.payload) for point in self.shard.query(request)]

    def _hybrid_search(self, vector: Sequence[float], keywords: Keywords, collections: list[str],
                       limit: int) -> list[ChunkHit]:
        granted = _collections_filter(collections)  # inside every prefetch: no stage ever sees other tenants
        depth = limit * PREFETCH_DEPTH
        request = edge.QueryRequest(
            limit=limit,
            prefetches=[
                edge.Prefetch(limit=depth, query=edge.Query.Nearest(list(map(float, vector)), using=MEANING), filter=granted),
                edge.Prefetch(limit=depth, query=edge.Query.Nearest(_sparse(keywords), using=KEYWORDS), filter=granted),
            ],
            query=edge.Fusion.Rrf(k=RRF_K),
            filter=granted,
            with_payload=True,
        )
        return [to_hit(point.score, point.payload) for point in self.shard.query(request)]

    def _delete(self, match: dict[str, str]) -> None:
        self.shard.update(edge.UpdateOperation.delete_points_by_filter(_match_filter(match)))

    def _count(self, collections: list[str] | None) -> int:
        return self.shard.count(edge.CountRequest(filter=_collections_filter(collections) if collections is not None else None, exact=True))

    def optimize(self) -> None:
        # Edge runs no optimizer in the background: until this runs, new points are searched
        # by brute force in unindexed segments.
        self.shard.optimize()

    def close(self) -> None:
        self.shard.flush()
        self.shard.close()


def _sparse(keywords: Keywords) -> edge.SparseVector:
    return edge.SparseVector(list(keywords.indices), list(keywords.values))


def _collections_filter(collections: list[str]) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(key="collection", match=edge.MatchAny(collections))])


def _match_filter(match: dict[str, str]) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(key=key, match=edge.MatchValue(value)) for key, value in match.items()])
