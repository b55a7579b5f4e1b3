"""Denied topics: questions close in meaning to the examples a compliance officer gave for a topic.

Each denied topic in the policy comes with example questions. A question (every window of every
reading, see screening.py) is embedded with MiniLM; its cosine similarity to each example is
compared with the policy's topic_min_similarity, and the closest topic over that line blocks the
question. Example embeddings are computed once per policy version.
"""
import threading

import numpy as np

from appliance.retrieval.embedding import Embedder
from guardrails.findings import BLOCK, REPORT, Finding
from guardrails.policy import Policy


REPORT_FRACTION = 0.9  # a question from this fraction of the policy's similarity is reported, not blocked


def report_from(threshold: float) -> float:
    """The similarity from which a question is reported, for a policy blocking from THRESHOLD."""
    return REPORT_FRACTION * threshold


class TopicDetector:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._lock = threading.Lock()
        self._examples: dict[tuple[int, tuple], tuple[list[str], np.ndarray]] = {}

    def detect(self, policy: Policy, vectors: np.ndarray, spans: list[tuple[int, int, str]]) -> list[Finding]:
        """At most one finding: the denied topic closest to any of VECTORS (one per window, whose
        (start, end, reading) are in SPANS). BLOCK from the policy's similarity, REPORT from 0.9 of it."""
        if not policy.denied_topics or len(vectors) == 0:
            return []
        names, examples = self._examples_of(policy)
        similarities = vectors @ examples.T  # unit vectors: dot product = cosine
        window, example = np.unravel_index(int(np.argmax(similarities)), similarities.shape)
        similarity = float(similarities[window, example])
        if similarity < report_from(policy.topic_min_similarity):
            return []
        start, end, reading = spans[window]
        action = BLOCK if similarity >= policy.topic_min_similarity else REPORT
        return [Finding("denied_topic", names[example], start, end, round(similarity, 4), action, reading)]

    def _examples_of(self, policy: Policy) -> tuple[list[str], np.ndarray]:
        key = (policy.version, policy.denied_topics)
        with self._lock:
            cached = self._examples.get(key)
        if cached is None:
            names = [topic.name for topic in policy.denied_topics for _ in topic.examples]
            texts = [example for topic in policy.denied_topics for example in topic.examples]
            cached = (names, self.embedder.embed(texts))
            with self._lock:
                if len(self._examples) > 16:  # old versions are rarely screened against again
                    self._examples.clear()
                self._examples[key] = cached
        return cached
