"""The held-back PII set (guardrails/evaluation/generate_pii_holdout.py): exact spans, and rebuilt byte
for byte from its generator. No database."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "guardrails" / "evaluation" / "generate_pii_holdout.py"
HOLDOUT = REPO / "guardrails" / "evaluation" / "data" / "pii_holdout.jsonl"
DEV_AND_TEST = [REPO / "guardrails" / "evaluation" / "data" / f"pii_{split}.jsonl" for split in ("dev", "test")]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_it_labels_exact_sorted_spans():
    rows = load(HOLDOUT)

    assert len(rows) == 1200
    for row in rows:
        assert set(row) == {"text", "entities", "locale", "template"}
        previous_end = 0
        for entity in row["entities"]:
            value = row["text"][entity["start"] : entity["end"]]
            assert value.strip() == value != "", (row["text"], entity)
            assert entity["start"] >= previous_end
            previous_end = entity["end"]


def test_it_shares_no_template_and_no_sentence_with_dev_and_test():
    rows = load(HOLDOUT)
    others = [row for path in DEV_AND_TEST for row in load(path)]

    scenarios = {row["template"].split(":")[0] for row in rows}
    assert scenarios.isdisjoint(row["template"].split(":")[0] for row in others)
    assert {row["text"] for row in rows}.isdisjoint(row["text"] for row in others)


def test_it_has_names_in_lower_case_and_in_other_scripts():
    formats = {part for row in load(HOLDOUT) for part in row["template"].split(":")[1].split("+")}

    assert {"PERSON.lower", "PERSON.native", "PHONE_NUMBER.national_noctx", "LOCATION.address"} <= formats


def test_it_is_rebuilt_byte_for_byte(tmp_path):
    # The generator freezes its own clock (Faker draws birth dates back from today); another hash
    # seed catches set ordering in Faker's providers.
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True, cwd=REPO,
                   env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})

    assert (tmp_path / HOLDOUT.name).read_bytes() == HOLDOUT.read_bytes()
