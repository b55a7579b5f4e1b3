"""One contract, two real adapters: Qdrant Edge in-process and qdrant-client (local mode stands
in for a Qdrant server: same client API, same adapter code)."""
import numpy as np
import pytest
from qdrant_client import QdrantClient

from appliance.errors import StoreUnavailable
from appliance.retrieval.edge_store import EdgeStore
from appliance.retrieval.keywords import KeywordEncoder
from appliance.retrieval.server_store import ServerStore
from appliance.retrieval.store import ChunkPoint, StoreOutdated

RNG = np.random.default_rng(7)


def unit(vector):
    vector = np.asarray(vector, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def random_unit():
    return unit(RNG.normal(size=384))


def near(vector, distance=0.2):
    """A unit vector about DISTANCE away from VECTOR (cosine similarity about 1 - distance**2 / 2)."""
    return unit(vector + RNG.normal(scale=distance / np.sqrt(384), size=384))


KEYWORDS = KeywordEncoder()


def chunk(chunk_id, vector, collection="finance", document_id="doc-1", text="", **payload):
    return ChunkPoint(chunk_id=chunk_id, vector=vector, collection=collection, document_id=document_id, payload=payload,
                      keywords=KEYWORDS.embed_passage(text))


def open_edge(path):
    return EdgeStore(path / "edge")


def open_server(path):
    return ServerStore(QdrantClient(path=str(path / "local")), "chunks")


@pytest.fixture(params=[open_edge, open_server], ids=["edge", "qdrant-client"])
def reopen(request, tmp_path):
    """Opens the adapter under test at a fixed place; calling it again after close() reopens it."""
    return lambda: request.param(tmp_path)


@pytest.fixture
def store(reopen):
    opened = reopen()
    yield opened
    opened.close()


def test_it_returns_the_nearest_chunks_first_with_their_payload(store):
    query = random_unit()
    store.upsert([chunk("far", random_unit()), chunk("close", near(query), page=3, section="Fees"), chunk("other", random_unit())])

    hits = store.search(query, collections=["finance"], limit=2)

    assert hits[0].chunk_id == "close"
    assert hits[0].score > 0.9
    assert hits[0].score >= hits[1].score
    assert (hits[0].collection, hits[0].document_id) == ("finance", "doc-1")
    assert hits[0].payload == {"page": 3, "section": "Fees"}


def test_it_filters_by_granted_collections_inside_the_query(store):
    query = random_unit()
    # Fifty chunks of a collection the user is not granted sit right on top of the query...
    store.upsert([chunk(f"secret-{i}", near(query, 0.05), collection="hr") for i in range(50)])
    # ...and one far-away chunk is all the granted collection has.
    store.upsert([chunk("granted", random_unit(), collection="finance")])

    hits = store.search(query, collections=["finance"], limit=5)

    # A post-filter over the top 5 would have found nothing; the query-side filter finds it.
    assert [hit.chunk_id for hit in hits] == ["granted"]


def test_it_searches_several_granted_collections_at_once(store):
    query = random_unit()
    store.upsert([chunk("a", near(query), collection="finance"), chunk("b", near(query), collection="legal"), chunk("c", near(query), collection="hr")])

    hits = store.search(query, collections=["finance", "legal"], limit=10)

    assert sorted(hit.chunk_id for hit in hits) == ["a", "b"]


def test_it_returns_nothing_when_no_collection_is_granted(store):
    store.upsert([chunk("a", random_unit())])

    assert store.search(random_unit(), collections=[], limit=5) == []


def test_it_does_not_duplicate_a_chunk_written_twice(store):
    vector = random_unit()
    store.upsert([chunk("same", vector)])
    store.upsert([chunk("same", vector, page=2)])

    assert store.count() == 1
    assert store.search(vector, collections=["finance"], limit=5)[0].payload == {"page": 2}


def test_it_keeps_equal_chunks_of_two_collections_apart(store):
    vector = random_unit()
    store.upsert([chunk("same-text", vector, collection="finance"), chunk("same-text", vector, collection="legal")])

    assert store.count(["finance"]) == 1
    assert store.count(["legal"]) == 1


def test_it_erases_one_document_and_nothing_else(store):
    store.upsert([chunk(f"d1-{i}", random_unit(), document_id="doc-1") for i in range(3)])
    store.upsert([chunk(f"d2-{i}", random_unit(), document_id="doc-2") for i in range(2)])

    store.delete_document("finance", "doc-1")

    assert store.count() == 2
    hits = store.search(random_unit(), collections=["finance"], limit=10)
    assert {hit.document_id for hit in hits} == {"doc-2"}


def test_it_erases_a_whole_collection(store):
    store.upsert([chunk("f", random_unit(), collection="finance"), chunk("l", random_unit(), collection="legal")])

    store.delete_collection("finance")

    assert store.count(["finance"]) == 0
    assert store.count(["legal"]) == 1


def test_it_keeps_chunks_across_a_restart(reopen):
    vector = random_unit()
    first = reopen()
    first.upsert([chunk("kept", vector)])
    first.close()

    second = reopen()
    try:
        assert [hit.chunk_id for hit in second.search(vector, collections=["finance"], limit=1)] == ["kept"]
    finally:
        second.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.upsert([chunk("short", [0.1] * 12)]), "vector has 12 dimensions, the store holds 384"),
        (lambda s: s.search([0.1] * 383, collections=["finance"], limit=3), "vector has 383 dimensions, the store holds 384"),
        (lambda s: s.search(random_unit(), collections=["finance"], limit=0), "limit must be at least 1, got 0"),
        (
            lambda s: s.upsert([ChunkPoint("x", random_unit(), "finance", "doc-1", {"chunk_id": "forged"})]),
            "payload keys ['chunk_id'] are reserved by the vector store",
        ),
    ],
    ids=["short-vector", "short-query", "zero-limit", "reserved-payload"],
)
def test_it_rejects_bad_arguments_with_a_clear_message(store, call, message):
    with pytest.raises(ValueError) as error:
        call(store)
    assert str(error.value) == message
    assert store.count() == 0


def test_it_tells_who_holds_the_embedded_store(tmp_path):
    holder = EdgeStore(tmp_path / "edge")
    try:
        with pytest.raises(StoreUnavailable) as error:
            EdgeStore(tmp_path / "edge")
    finally:
        holder.close()

    assert error.value.message == (
        f"The embedded vector store at {tmp_path / 'edge'} is open in another process, usually the running "
        "Celery worker. Stop the worker, or send this work through it."
    )
    assert error.value.permanent is False



def test_it_serves_the_embedded_workers_threads_at_once(tmp_path):
    """In embedded mode the worker's threads share one open Edge shard: writes and searches interleave.
    (qdrant-client's local mode is single-threaded; a Qdrant server is reached over HTTP.)"""
    from concurrent.futures import ThreadPoolExecutor

    store = open_edge(tmp_path)
    vectors = {thread: [random_unit() for _ in range(25)] for thread in range(4)}

    def write_and_search(thread):
        for i, vector in enumerate(vectors[thread]):
            store.upsert([chunk(f"t{thread}-{i}", vector, collection=f"team-{thread}")])
        return [store.search(vector, collections=[f"team-{thread}"], limit=1)[0].chunk_id for vector in vectors[thread]]

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            found = list(pool.map(write_and_search, range(4)))
        assert found == [[f"t{thread}-{i}" for i in range(25)] for thread in range(4)]
        assert store.count() == 100
    finally:
        store.close()


def test_it_finds_by_keywords_what_meaning_alone_ranks_low(store):
    query = random_unit()
    # Twenty chunks are close in meaning; the one that names the exact term is far.
    store.upsert([chunk(f"near-{i}", near(query, 0.3), text=f"General travel guidance, part {i}.") for i in range(20)])
    store.upsert([chunk("exact", random_unit(), text="Hotels in capitals: at most EUR 220 per night, Saturday check-in.")])

    by_meaning = store.search(query, collections=["finance"], limit=5)
    hybrid = store.search(query, collections=["finance"], limit=5, keywords=KEYWORDS.embed_question("hotel per night in capitals"))

    assert "exact" not in [hit.chunk_id for hit in by_meaning]
    assert "exact" in [hit.chunk_id for hit in hybrid]


def test_it_ranks_first_what_both_meaning_and_keywords_rank_high(store):
    query = random_unit()
    store.upsert([
        chunk("meaning-only", near(query, 0.05), text="Opening times of the branch."),
        chunk("keywords-only", random_unit(), text="Leave requests go to your manager."),
        chunk("both", near(query, 0.1), text="Annual leave: 28 days a year, booked in the leave planner."),
    ])

    hits = store.search(query, collections=["finance"], limit=3, keywords=KEYWORDS.embed_question("annual leave days"))

    assert hits[0].chunk_id == "both"


def test_it_keeps_the_grant_filter_inside_every_hybrid_prefetch(store):
    query = random_unit()
    # Fifty chunks of another tenant match both the meaning and every keyword...
    store.upsert([chunk(f"secret-{i}", near(query, 0.05), collection="hr", text="salary band of the director")
                  for i in range(50)])
    # ...and the granted collection has one chunk that matches neither.
    store.upsert([chunk("granted", random_unit(), collection="finance", text="Invoices are paid monthly.")])

    hits = store.search(query, collections=["finance"], limit=5, keywords=KEYWORDS.embed_question("director salary band"))

    assert [hit.chunk_id for hit in hits] == ["granted"]


def test_it_searches_by_meaning_when_a_question_has_only_stop_words(store):
    query = random_unit()
    store.upsert([chunk("close", near(query), text="Something relevant.")])

    hits = store.search(query, collections=["finance"], limit=1, keywords=KEYWORDS.embed_question("what is it?"))

    assert [hit.chunk_id for hit in hits] == ["close"]


def test_it_refuses_a_store_built_without_keyword_vectors(tmp_path):
    import qdrant_edge as edge

    old = edge.EdgeShard.create(str(tmp_path / "edge"), edge.EdgeConfig(
        vectors=edge.EdgeVectorParams(size=384, distance=edge.Distance.Cosine)))
    old.close()

    with pytest.raises(StoreOutdated) as error:
        EdgeStore(tmp_path / "edge")

    assert "python manage.py reindex --all" in error.value.message
    rebuilt = EdgeStore(tmp_path / "edge", rebuild=True)
    try:
        assert rebuilt.count() == 0
    finally:
        rebuilt.close()
