import hashlib

import numpy as np
import pytest
from django.conf import settings

from appliance.retrieval.embedding import Embedder, quantize_for_passages


@pytest.fixture(scope="module")
def embedder():
    embedder = Embedder.from_settings()
    embedder.warm_up()  # with every non-loopback connection refused: the model loads from disk
    return embedder


def test_it_makes_unit_length_384_d_vectors(embedder):
    vectors = embedder.embed(["Quarterly revenue rose by 4%.", "Patients must sign the consent form."])

    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_it_places_related_sentences_closer_than_unrelated_ones(embedder):
    question, related, unrelated = embedder.embed(
        ["How much did revenue grow last quarter?", "Quarterly revenue rose by 4%.", "The cafeteria opens at eight."]
    )

    assert question @ related > question @ unrelated + 0.3


def test_it_embeds_nothing_into_an_empty_array(embedder):
    assert embedder.embed([]).shape == (0, 384)


def test_it_names_a_model_directory_that_is_not_a_model(tmp_path):
    with pytest.raises(ValueError) as error:
        Embedder(tmp_path, settings.RETRIEVAL_EMBEDDING_ONNX)

    assert str(error.value) == f"embedding model directory {tmp_path} has no tokenizer.json"


def test_it_says_how_to_make_a_missing_onnx_file(tmp_path):
    with pytest.raises(ValueError) as error:
        Embedder(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, tmp_path / "minilm.onnx")

    assert str(error.value) == f"embedding model {tmp_path / 'minilm.onnx'} does not exist; run `python manage.py install_models`"


def test_onnx_gives_the_vectors_sentence_transformers_gives(embedder):
    reference = Embedder(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, backend="sentence-transformers")
    texts = [
        "How much did revenue grow last quarter?", "Kündigungsfrist im Rahmenvertrag?", "🏦", "word " * 400,
        "Patients must sign the consent form before the procedure, and the nurse records it.",
    ]

    cosines = np.sum(embedder.embed(texts) * reference.embed(texts), axis=1)

    assert np.all(cosines > 0.9999), cosines


@pytest.fixture(scope="module")
def passage_embedder():
    embedder = Embedder.for_passages_from_settings()
    embedder.warm_up()
    return embedder


def test_passages_are_embedded_by_the_int8_model_install_models_builds(passage_embedder):
    assert passage_embedder.onnx_path == settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX
    assert passage_embedder.onnx_path.stat().st_size < settings.RETRIEVAL_EMBEDDING_ONNX.stat().st_size / 3


def test_an_int8_passage_vector_stays_beside_its_fp32_one(embedder, passage_embedder):
    texts = [
        "Gifts worth less than EUR 50 may be accepted; anything above must be declared to Compliance within 5 days.",
        "Patients must sign the consent form before the procedure, and the nurse records it.",
        "word " * 400,
    ]

    cosines = np.sum(embedder.embed(texts) * passage_embedder.embed(texts), axis=1)

    assert np.all(cosines > 0.96), cosines


def test_a_question_finds_its_passage_among_int8_passages(embedder, passage_embedder):
    passages = passage_embedder.embed([
        "The cafeteria opens at eight and closes at three.",
        "Gifts worth less than EUR 50 may be accepted; anything above must be declared to Compliance.",
        "Laptops must be encrypted and locked when left unattended.",
    ])
    question = embedder.embed(["Up to what value may I accept a gift?"])[0]

    assert int(np.argmax(passages @ question)) == 1


def test_quantizing_gives_the_same_file_each_time(tmp_path):
    quantize_for_passages(settings.RETRIEVAL_EMBEDDING_ONNX, tmp_path / "passages.onnx")

    made = hashlib.sha256((tmp_path / "passages.onnx").read_bytes()).hexdigest()
    assert made == hashlib.sha256(settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX.read_bytes()).hexdigest()


def test_without_an_int8_model_passages_use_the_questions_model(settings):
    settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX = None

    assert Embedder.for_passages_from_settings().onnx_path == settings.RETRIEVAL_EMBEDDING_ONNX
