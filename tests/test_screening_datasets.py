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
FAMILY_SETS = {
    "train": TRAINING_DATA / "families_train.jsonl",
    "dev": EVALUATION_DATA / "injection_families_dev.jsonl",
    "heldback": EVALUATION_DATA / "injection_families_heldback.jsonl",
}
FAMILY_CATEGORIES = {
    "attack": {
        "roleplay_persona", "instruction_hijack", "encoding_cipher", "unicode_smuggling", "markup_hidden",
        "tense_reworded", "non_english",
    },
    "benign": {
        "trivia", "manual_newcomer", "enterprise", "summarise", "other_languages", "security_history", "with_emoji",
        "with_codes",
    },
}
# Compared through their plain attacks, which come from goals cut by split (build_family_sets.py).
NOT_WORD_COMPARED = {"encoding_cipher", "unicode_smuggling"}

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


@pytest.mark.parametrize("split", FAMILY_SETS)
def test_family_lines_have_the_documented_fields(split):
    rows = load(FAMILY_SETS[split])
    for row in rows:
        assert set(row) == {"text", "label", "category"}
        assert isinstance(row["text"], str) and row["text"].strip()
        assert row["category"] in FAMILY_CATEGORIES[row["label"]]
    assert {row["category"] for row in rows} == set.union(*FAMILY_CATEGORIES.values())


def test_it_holds_back_at_least_a_thousand_benign_questions():
    benign = [row for row in load(FAMILY_SETS["heldback"]) if row["label"] == "benign"]

    assert len(benign) >= 1000


def test_no_family_text_is_in_two_splits_or_in_the_older_sets():
    owner = {}
    for name, path in [*FAMILY_SETS.items(), *INJECTION_SETS.items()]:  # two training files may share a line
        for row in load(path):
            key = normalised(row["text"])
            assert owner.setdefault(key, name) == name, f"in {owner[key]} and {name}: {row['text']!r}"


def test_no_family_dev_or_heldback_text_paraphrases_a_training_text():
    training = [frozenset(re.findall(r"\w+", row["text"].lower())) for path in (FAMILY_SETS["train"], INJECTION_SETS["train"])
                for row in load(path) if row["category"] not in NOT_WORD_COMPARED]
    holders = {}
    for number, words in enumerate(training):
        for word in words:
            holders.setdefault(word, []).append(number)
    close = []
    for split in ("dev", "heldback"):
        for row in load(FAMILY_SETS[split]):
            if row["category"] in NOT_WORD_COMPARED:
                continue
            words = frozenset(re.findall(r"\w+", row["text"].lower()))
            shared = {}
            for word in words:
                for number in holders.get(word, ()):
                    shared[number] = shared.get(number, 0) + 1
            close += [(split, row["text"]) for number, count in shared.items()
                      if count / len(words | training[number]) >= NEAR_PARAPHRASE_JACCARD]
    assert not close


def test_family_sets_are_rebuilt_byte_for_byte(tmp_path):
    run_script(REPO / "guardrails" / "training" / "build_family_sets.py", tmp_path)
    for path in FAMILY_SETS.values():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs from its sources"
