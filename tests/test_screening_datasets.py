"""The labelled screening sets (guardrails/evaluation/README.md): well formed, splits kept apart, and
reproducible from the scripts that build them, on any day. No database; the scripts run as
subprocesses, or imported from their path to be run under another clock."""
import importlib.util
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

REPO = Path(__file__).resolve().parent.parent
TRAINING_DATA = REPO / "guardrails" / "training" / "data"
EVALUATION_DATA = REPO / "guardrails" / "evaluation" / "data"
INJECTION_SETS = {
    "train": TRAINING_DATA / "injection_train.jsonl",
    "dev": EVALUATION_DATA / "injection_dev.jsonl",
    "test": EVALUATION_DATA / "injection_test.jsonl",
}
PII_SETS = {"dev": EVALUATION_DATA / "pii_dev.jsonl", "test": EVALUATION_DATA / "pii_test.jsonl"}

# As documented in guardrails/evaluation/README.md.
CATEGORIES = {
    "attack": {
        "direct_injection", "roleplay_jailbreak", "encoded_payload", "invisible_smuggling", "multilingual_injection",
        "payload_splitting",
    },
    "benign": {"business", "trigger_words", "security_topics", "multilingual", "with_codes", "with_emoji"},
}
PII_TYPES = {
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "ES_NIF",
    "IT_FISCAL_CODE", "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "UK_NHS",
    "LOCATION",
}
PII_LOCALES = {
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "fi_FI", "sv_SE", "en_IE", "en_IN", "en_AU",
}
# Two texts in different splits sharing this share of their words are near-paraphrases.
NEAR_PARAPHRASE_JACCARD = 0.6
# Days far from the one the sets were generated on, one of them a leap day.
OTHER_DAYS = (
    datetime(2031, 7, 15, 23, 30, tzinfo=ZoneInfo("UTC")), datetime(2040, 2, 29, 6, 0, tzinfo=ZoneInfo("UTC")),
)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("split", INJECTION_SETS)
def test_injection_lines_have_the_documented_fields(split):
    rows = load(INJECTION_SETS[split])
    assert rows
    for row in rows:
        assert set(row) == {"text", "label", "category"}
        assert isinstance(row["text"], str) and row["text"].strip()
        assert row["category"] in CATEGORIES[row["label"]]
    assert {row["label"] for row in rows} == {"attack", "benign"}


@pytest.mark.parametrize("split", PII_SETS)
def test_pii_spans_are_exact_and_typed(split):
    rows = load(PII_SETS[split])
    assert rows
    for row in rows:
        assert set(row) == {"text", "entities", "locale", "template"}
        assert row["locale"] in PII_LOCALES
        previous_end = 0
        for entity in row["entities"]:
            assert set(entity) == {"type", "start", "end"}
            assert entity["type"] in PII_TYPES
            value = row["text"][entity["start"] : entity["end"]]
            assert value.strip() == value != "", (row["text"], entity)
            assert entity["start"] >= previous_end, "spans are sorted and do not overlap"
            previous_end = entity["end"]
    assert any(not row["entities"] for row in rows), "some sentences have no PII"


def normalised(text: str) -> str:
    return "".join(text.lower().split())


def test_no_injection_text_is_in_two_splits():
    owner = {}
    for split, path in INJECTION_SETS.items():
        for row in load(path):
            key = normalised(row["text"])
            assert owner.setdefault(key, split) == split, f"in {owner[key]} and {split}: {row['text']!r}"


def test_no_near_paraphrase_across_injection_splits():
    words = {split: [frozenset(re.findall(r"\w+", row["text"].lower())) for row in load(path)]
             for split, path in INJECTION_SETS.items()}
    close = []
    for first, second in (("train", "dev"), ("train", "test"), ("dev", "test")):
        for a in words[first]:
            for b in words[second]:
                if a and b and len(a & b) / len(a | b) >= NEAR_PARAPHRASE_JACCARD:
                    close.append((first, second, sorted(a & b)))
    assert not close


def run_script(script: Path, out: Path) -> None:
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True, cwd=REPO)


def test_injection_sets_are_rebuilt_byte_for_byte(tmp_path):
    run_script(REPO / "guardrails" / "training" / "build_injection_sets.py", tmp_path)
    for path in INJECTION_SETS.values():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs from its sources"


def test_pii_sets_are_rebuilt_byte_for_byte(tmp_path):
    run_script(REPO / "guardrails" / "evaluation" / "generate_pii_set.py", tmp_path)
    for path in PII_SETS.values():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs from the generator"


def import_script(script: Path):
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_generates_the_same_pii_sets_on_any_day():
    generator = import_script(REPO / "guardrails" / "evaluation" / "generate_pii_set.py")
    seed, _count = generator.SPLITS["dev"]
    count = 2 * len(generator.TEMPLATES)  # every template twice, the ones with a birth date in their ids too

    builds = []
    for day in OTHER_DAYS:
        with time_machine.travel(day, tick=False):
            builds.append(generator.build_split(seed, count))

    assert builds[0] == builds[1]
    assert {"PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER"} <= {
        entity["type"] for row in builds[0] for entity in row["entities"]
    }
    assert builds[0] == load(PII_SETS["dev"])[:count]


def test_it_augments_the_benign_training_questions_the_same_on_any_day():
    augmenter = import_script(REPO / "guardrails" / "training" / "augment_benign.py")

    builds = []
    for day in OTHER_DAYS:
        with time_machine.travel(day, tick=False):
            builds.append(augmenter.personal_questions(40))

    assert builds[0] == builds[1]
    committed = [row for row in load(TRAINING_DATA / "benign_augmented.jsonl")
                 if row["category"] == "augmented_personal_data"]
    assert builds[0] == committed[:40]
