"""Qdrant server adapter (QDRANT_URL), through qdrant-client. Its tests run against
qdrant-client's local mode, which speaks the same API in-process."""
from collections.abc import Sequence

from qdrant_client import QdrantClient, models

from appliance.retrieval.store import ChunkHit, ChunkPoint, VectorStore, point_id, to_hit, to_payload


class ServerStore(VectorStore):
    def __init__(self, client: QdrantClient, collection_name: str):
        self.client = client
        self.name = collection_name
        if not client.collection_exists(collection_name):
            self._create()

    def _create(self) -> None:
        self.client.create_collection(
            self.name, vectors_config=models.VectorParams(size=self.dimension, distance=models.Distance.COSINE)
        )
        self.client.create_payload_index(
            self.name, "collection", field_schema=models.KeywordIndexParams(type="keyword", is_tenant=True), wait=True
        )
        self.client.create_payload_index(self.name, "document_id", field_schema=models.PayloadSchemaType.KEYWORD, wait=True)

    def _upsert(self, points: Sequence[ChunkPoint]) -> None:
        self.client.upsert(
            self.name,
            points=[
                models.PointStruct(id=point_id(p.collection, p.chunk_id), vector=list(map(float, p.vector)), payload=to_payload(p))
                for p in points
            ],
            wait=True,
        )

    def _search(self, vector: Sequence[float], collections: list[str], limit: int) -> list[ChunkHit]:
        response = self.client.query_points(
            self.name,
            query=list(map(float, vector)),
            query_filter=_collections_filter(collections),
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


def _collections_filter(collections: list[str]) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="collection", match=models.MatchAny(any=collections))])
