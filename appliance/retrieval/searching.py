"""Searching granted collections for the passages that answer a question: by meaning and by
keywords at once (hybrid, see store.py), with the grant filter inside the vector query."""
from collections.abc import Sequence

from appliance.runtime import WorkerParts


def search_chunks(text: str, collections: Sequence, parts: WorkerParts, *, limit: int, vector=None) -> list[dict]:
    """The LIMIT best chunks of COLLECTIONS (anything with a store_key and a name) for TEXT, as plain dicts (collection, document,
    document_id, version, chunk_id, section, page, score, sensitivity, text), best first. VECTOR
    is TEXT's embedding when the caller has it already (the answer path also routes with it)."""
    names = {collection.store_key: collection.name for collection in collections}
    if vector is None:
        vector = parts.embedder.embed([text])[0]
    hits = parts.store.search(vector, collections=list(names), limit=limit, keywords=parts.keywords.embed_question(text))
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
