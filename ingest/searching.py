"""Searching collections by meaning (used by the CLI now, by the answer path later)."""
from appliance.runtime import WorkerParts
from ingest.models import Collection


def search_chunks(
    text: str, collections: list[Collection], parts: WorkerParts, *, limit: int, vector=None,
) -> list[dict]:
    """The LIMIT best chunks of COLLECTIONS for TEXT, as plain dicts (document, section, page,
    score, sensitivity, text). The collections filter runs inside the vector query. VECTOR is
    TEXT's embedding when the caller has it already (the answer path also routes with it)."""
    names = {collection.store_key: collection.name for collection in collections}
    if vector is None:
        vector = parts.embedder.embed([text])[0]
    hits = parts.store.search(vector, collections=list(names), limit=limit)
    return [
        {
            "collection": names[hit.collection],
            "document": hit.payload.get("filename"),
            "document_id": hit.document_id,
            "version": hit.payload.get("version"),
            "chunk_id": hit.chunk_id,
            "section": hit.payload.get("section"),
            "page": hit.payload.get("page"),
            "score": round(hit.score, 4),
            "sensitivity": hit.payload.get("sensitivity"),
            "text": hit.payload.get("text"),
        }
        for hit in hits
    ]
