"""Qdrant Edge adapter: the Qdrant engine in this process, one shard directory under the data dir.

Only one process may open a shard (its WAL is locked). In embedded mode that process is the
Celery worker; anything else that tries gets StoreUnavailable saying so.
"""
from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as edge

from appliance.errors import StoreUnavailable
from appliance.retrieval.store import ChunkHit, ChunkPoint, VectorStore, point_id, to_hit, to_payload


class EdgeStore(VectorStore):
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            if self.path.is_dir() and any(self.path.iterdir()):
                self.shard = edge.EdgeShard.load(str(self.path))
            else:
                self.shard = self._create()
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
        config = edge.EdgeConfig(vectors=edge.EdgeVectorParams(size=self.dimension, distance=edge.Distance.Cosine))
        shard = edge.EdgeShard.create(str(self.path), config)
        # The collection is the tenant key: filtered search walks only that tenant's graph.
        shard.update(edge.UpdateOperation.create_field_index("collection", edge.KeywordIndexParams(is_tenant=True)))
        shard.update(edge.UpdateOperation.create_field_index("document_id", edge.PayloadSchemaType.Keyword))
        return shard

    def _upsert(self, points: Sequence[ChunkPoint]) -> None:
        self.shard.update(
            edge.UpdateOperation.upsert_points(
                [edge.Point(point_id(p.collection, p.chunk_id), list(map(float, p.vector)), to_payload(p)) for p in points]
            )
        )

    def _search(self, vector: Sequence[float], collections: list[str], limit: int) -> list[ChunkHit]:
        request = edge.QueryRequest(
            limit=limit,
            query=edge.Query.Nearest(list(map(float, vector))),
            filter=_collections_filter(collections),
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


def _collections_filter(collections: list[str]) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(key="collection", match=edge.MatchAny(collections))])


def _match_filter(match: dict[str, str]) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(key=key, match=edge.MatchValue(value)) for key, value in match.items()])
