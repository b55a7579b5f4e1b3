"""Qdrant server adapter (QDRANT_URL), through qdrant-client. Its tests run against
qdrant-client's local mode, which speaks the same API in-process."""
from collections.abc import Sequence

from qdrant_client import QdrantClient, models

from appliance.retrieval.keywords import Keywords
from appliance.retrieval.store import (
    KEYWORDS, MEANING, PREFETCH_DEPTH, RRF_K, ChunkHit, ChunkPoint, StoreOutdated, VectorStore, point_id, to_hit,
    to_payload,
)


class ServerStore(VectorStore):
    def __init__(self, client: QdrantClient, collection_name: str, *, rebuild: bool = False):
        self.client = client
        self.name = collection_name
        if rebuild and client.collection_exists(collection_name):
            client.delete_collection(collection_name)
        if not client.collection_exists(collection_name):
            self._create()
        elif KEYWORDS not in (client.get_collection(collection_name).config.params.sparse_vectors or {}):
            raise StoreOutdated(f"collection {collection_name!r} of the Qdrant server")

    def _create(self) -> None:
        self.client.create_collection(
            self.name,
            vectors_config={MEANING: models.VectorParams(size=self.dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={KEYWORDS: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        self.client.create_payload_index(
            self.name, "collection", field_schema=models.KeywordIndexParams(type="keyword", is_tenant=True), wait=True
        )
        self.client.create_payload_index(self.name, "document_id", field_schema=models.PayloadSchemaType.KEYWORD, wait=True)

    def _upsert(self, points: Sequence[ChunkPoint]) -> None:
        self.client.upsert(
            self.name,
            points=[
                models.PointStruct(
                    id=point_id(p.collection, p.chunk_id),
                    vector={MEANING: list(map(float, p.vector)), KEYWORDS: _sparse(p.keywords)},
                    payload=to_payload(p),
                )
                for p in points
            ],
            wait=True,
        )

    def _search(self, vector: Sequence[float], collections: list[str], limit: int) -> list[ChunkHit]:
        response = self.client.query_points(
            self.name,
            query=list(map(float, vector)),
            using=MEANING,
            query_filter=_collections_filter(collections),
            limit=limit,
            with_payload=True,
        )
        return [to_hit(point.score, point.payload) for point in response.points]

    def _hybrid_search(self, vector: Sequence[float], keywords: Keywords, collections: list[str],
                       limit: int) -> list[ChunkHit]:
        granted = _collections_filter(collections)  # inside every prefetch: no stage ever sees other tenants
        depth = limit * PREFETCH_DEPTH
        response = self.client.query_points(
            self.name,
            prefetch=[
                models.Prefetch(query=list(map(float, vector)), using=MEANING, filter=granted, limit=depth),
                models.Prefetch(query=_sparse(keywords), using=KEYWORDS, filter=granted, limit=depth),
            ],
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
            query_filter=granted,
            limit=limit,
            with_payload=True,
        )
        return [to_hit(point.score, point.payload) for point in response.points]

    def _delete(self, match: dict[str, str]) -> None:
        conditions = [models.FieldCondition(key=key, match=models.MatchValue(value=value)) for key, value in match.items()]
        self.client.delete(self.name, points_selector=models.FilterSelector(filter=models.Filter(must=conditions)), wait=True)

    def _count(self, collections: list[str] | None) -> int:
        count_filter = _collections_filter(collections) if collections is not None else None
        return self.client.count(self.name, count_filter=count_filter, exact=True).count

    def close(self) -> None:
        self.client.close()


def _sparse(keywords: Keywords) -> models.SparseVector:
    return models.SparseVector(indices=list(keywords.indices), values=list(keywords.values))


def _collections_filter(collections: list[str]) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="collection", match=models.MatchAny(any=collections))])
