"""Screening quality on the labelled sets in guardrails/evaluation/data (see README.md there).

    .venv/bin/python guardrails/evaluation/evaluate.py --split dev|test|holdout [--part injection|pii] [--show-misses]

Screens every question with the real QuestionScreener (NeMo rails, Presidio, rules, classifier)
under the shipped default policy, and prints Markdown tables:

- attacks: share blocked, per category, and which detector blocked them;
- benign questions: share blocked, per category (a benign question carrying a card number is
  blocked by the PII rules, and counts against us like any other block);
- PII: recall and precision per entity type of the personal-data rail run on its own (in full
  screening an earlier rail that blocks stops it), and how many of these benign sentences the
  attack and topic detectors block. A labelled entity counts as found when a finding of
  the same type overlaps its span with at least the policy's minimum score for that type.
  Precision counts, for the labelled types only, findings that overlap no labelled entity of their
  type. "Pattern entities" are every type but PERSON and LOCATION (found by the NER model).

The dev split is for looking at misses while writing rules; the test split is for reporting. With the
injection part of each comes the family set of the same use (injection_families_dev.jsonl, and for test
injection_families_heldback.jsonl): attacks blocked per attack family, benign questions blocked per kind,
and which detectors blocked each.
The holdout split (pii_holdout.jsonl, PII only) was written before the issue 13 changes and is only
reported on. With the PII part comes the share of benign questions (every benign line of the
injection dev set and of guardrails/training/data, except those written to carry personal data or
to name public figures) that the personal-data rail makes sensitive or blocks, by entity type.
"""
import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ["APPLIANCE_DATA_DIR"] = tempfile.mkdtemp(prefix="appliance-eval-")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")

DATA = Path(__file__).resolve().parent / "data"
NER_TYPES = ("PERSON", "LOCATION")
# The family sets of build_family_sets.py: dev for tuning, held-back (never tuned on) with the test split.
FAMILY_SETS = {"dev": "injection_families_dev.jsonl", "test": "injection_families_heldback.jsonl"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "n/a"


def evaluate_injection(screener, policy, examples: list[dict], show_misses: bool) -> None:
    blocked = Counter()
    totals = Counter()
    by_detector = Counter()
    misses = []
    for example in examples:
        verdict = screener.run(example["text"], policy)
        key = (example["label"], example["category"])
        totals[key] += 1
        if verdict.is_blocked:
            blocked[key] += 1
            detectors = sorted({f.detector for f in verdict.findings if f.action == "block"})
            by_detector[(example["label"], " + ".join(detectors))] += 1
        if verdict.is_blocked != (example["label"] == "attack"):
            misses.append((example, verdict))
    for label, title in (("attack", "Attacks blocked"), ("benign", "Benign questions blocked")):
        print(f"\n| {title} | share |\n| --- | ---: |")
        keys = sorted(key for key in totals if key[0] == label)
        for key in keys:
            print(f"| {key[1]} | {percent(blocked[key], totals[key])} |")
        print(f"| **all** | **{percent(sum(blocked[k] for k in keys), sum(totals[k] for k in keys))}** |")
    print("\n| Blocked by | attacks | benign |\n| --- | ---: | ---: |")
    for detectors in sorted({detectors for _, detectors in by_detector}):
        print(f"| {detectors} | {by_detector['attack', detectors]} | {by_detector['benign', detectors]} |")
    if show_misses:
        print("\nMisses:")
        for example, verdict in misses:
            scores = [(f.detector, f.type, f.score, f.action) for f in verdict.findings]
            print(f"- [{example['label']}/{example['category']}] {example['text']!r} -> {verdict.action} {scores}")


def evaluate_pii(screener, policy, examples: list[dict], show_misses: bool) -> None:
    from guardrails.screening import ScreeningRequest

    found, labelled = Counter(), Counter()
    true_findings, all_findings = Counter(), Counter()
    by_template = defaultdict(lambda: [0, 0])
    misses = []
    blocked_as_attack = Counter()
    types = {entity["type"] for example in examples for entity in example["entities"]}
    for example in examples:
        verdict = screener.run(example["text"], policy)
        blocking = {f.detector for f in verdict.findings if f.action == "block"}
        if blocking - {"pii", "policy_pattern"}:
            blocked_as_attack[" + ".join(sorted(blocking))] += 1
        # The personal-data rail alone: in the full screening an earlier rail's block stops it.
        request = ScreeningRequest(example["text"], policy, screener.embedder)
        findings = [
            f for f in screener.check_personal_data(request)
            if f.detector == "pii" and f.score >= policy.min_score_for(f.type)
        ]
        for entity in example["entities"]:
            labelled[entity["type"]] += 1
            hit = any(overlaps(f, entity) and f.type == entity["type"] for f in findings)
            found[entity["type"]] += hit
            by_template[example["template"]][0] += hit
            by_template[example["template"]][1] += 1
            if not hit:
                misses.append((example, entity, findings))
        for finding in findings:
            if finding.type in types:
                all_findings[finding.type] += 1
                true_findings[finding.type] += any(
                    overlaps(finding, e) and finding.type == e["type"] for e in example["entities"]
                )
    print(f"\nPII sentences (benign questions) blocked by an attack or topic detector: "
          f"{percent(sum(blocked_as_attack.values()), len(examples))} {dict(blocked_as_attack)}")
    print("\n| Entity type | recall | precision |\n| --- | ---: | ---: |")
    for entity_type in sorted(labelled):
        print(f"| {entity_type} | {percent(found[entity_type], labelled[entity_type])} | "
              f"{percent(true_findings[entity_type], all_findings[entity_type])} |")
    for title, chosen in (("pattern entities", [t for t in labelled if t not in NER_TYPES]), ("PERSON", ["PERSON"])):
        print(f"| **{title}** | **{percent(sum(found[t] for t in chosen), sum(labelled[t] for t in chosen))}** | "
              f"**{percent(sum(true_findings[t] for t in chosen), sum(all_findings[t] for t in chosen))}** |")
    print("\n| Template (recall below 95%) | recall |\n| --- | ---: |")
    for template, (hits, total) in sorted(by_template.items()):
        if hits < 0.95 * total:
            print(f"| {template} | {percent(hits, total)} |")
    if show_misses:
        print("\nMissed entities:")
        for example, entity, findings in misses:
            value = example["text"][entity["start"]:entity["end"]]
            print(f"- {entity['type']} {value!r} in {example['text']!r}; found {[(f.type, f.score) for f in findings]}")


BENIGN_WITHOUT_PERSONAL_DATA_EXCLUDED = ("augmented_personal_data", "trivia")


def benign_questions() -> list[dict]:
    """Benign questions that carry no personal data: the benign lines of the injection dev set and
    of the training data (not the test set's: we look at these while tuning), without the
    categories written to carry some (personal data, public figures)."""
    paths = [DATA / "injection_dev.jsonl", *sorted((REPO / "guardrails" / "training" / "data").glob("*.jsonl"))]
    return [row for path in paths for row in load(path)
            if row.get("label") == "benign" and row.get("category") not in BENIGN_WITHOUT_PERSONAL_DATA_EXCLUDED]


def evaluate_benign_pii(screener, policy, examples: list[dict], show_misses: bool) -> None:
    """How many benign questions the personal-data rail makes sensitive or blocks, and why."""
    from guardrails.screening import ScreeningRequest

    flagged, by_type, shown = 0, Counter(), []
    for example in examples:
        request = ScreeningRequest(example["text"], policy, screener.embedder)
        acting = [f for f in screener.check_personal_data(request) if f.detector == "pii" and f.action != "report"]
        flagged += bool(acting)
        by_type.update({f.type for f in acting})
        if acting:
            shown.append((example["text"], sorted({(f.type, example["text"][f.start:f.end]) for f in acting})))
    print(f"\nBenign questions without personal data made sensitive or blocked by the personal-data rail: "
          f"{percent(flagged, len(examples))}; by type: {dict(by_type.most_common())}")
    if show_misses:
        for text, found in shown:
            print(f"- {text!r}: {found}")


def overlaps(finding, entity: dict) -> bool:
    return finding.start < entity["end"] and entity["start"] < finding.end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "holdout"), required=True)
    parser.add_argument("--part", choices=("injection", "pii"), help="only this part (holdout: PII only)")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from appliance.runtime import question_screener
    from guardrails.policy import DEFAULT_RULES, Policy

    policy = Policy.from_rules(DEFAULT_RULES, version=1)
    screener = question_screener()
    if args.part != "pii" and args.split != "holdout":
        print(f"## Injection and jailbreaks ({args.split} split)")
        evaluate_injection(screener, policy, load(DATA / f"injection_{args.split}.jsonl"), args.show_misses)
        print(f"\n## Injection and jailbreaks by attack family ({FAMILY_SETS[args.split]})")
        evaluate_injection(screener, policy, load(DATA / FAMILY_SETS[args.split]), args.show_misses)
    if args.part != "injection":
        print(f"\n## Personal data ({args.split} split)")
        evaluate_pii(screener, policy, load(DATA / f"pii_{args.split}.jsonl"), args.show_misses)
        evaluate_benign_pii(screener, policy, benign_questions(), args.show_misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
