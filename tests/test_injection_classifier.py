"""The injection classifier the repo ships is the one its training script makes from the repo's data."""
import json
import subprocess
import sys

import numpy as np
import pytest

from guardrails.injection import CLASSIFIER_PATH, InjectionClassifier
from tests.conftest import REPO


def test_it_loads_the_shipped_weights():
    classifier = InjectionClassifier.load()

    assert classifier.weights.shape == (384,)
    assert classifier.embedding_model == "all-MiniLM-L6-v2"


def test_it_refuses_a_file_that_is_not_a_classifier(tmp_path):
    broken = tmp_path / "classifier.json"
    broken.write_text('{"weights": [1, "x"], "bias": 0, "embedding_model": "m"}')

    with pytest.raises(ValueError, match="is not an injection classifier file"):
        InjectionClassifier.load(broken)


def test_its_scores_are_probabilities():
    classifier = InjectionClassifier.load()
    vectors = np.random.default_rng(1).normal(size=(5, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # embeddings are unit vectors

    scores = classifier.scores(vectors)

    assert scores.shape == (5,) and np.all((scores > 0) & (scores < 1))


@pytest.mark.slow
def test_training_again_reproduces_the_shipped_weights():
    result = subprocess.run(
        [sys.executable, "guardrails/training/train_injection_classifier.py", "--check"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert json.loads(CLASSIFIER_PATH.read_text())["trained_on"]["examples"] > 1500
