"""What a policy change does, in plain words: for the editor ("What this draft changes") and for each
published version ("What changed from version N-1").

The test bench shows what a draft does to the verdicts of questions; this lists everything else
too, field by field, each with its consequence for people. The consequences follow the code that
applies each rule:

- entity_actions: guardrails.personal_data (block refuses, sensitive keeps the answer inside the
  perimeter, a type not listed is only reported);
- entity_labels: ingest labels passages with them (documents already indexed keep theirs), and
  together with entity_actions they decide what analysts are not shown in answers and source
  passages (appliance.answering.checking.is_withheld_type);
- passage_reveal: appliance.answering.masking (each reveal is a ledger event);
- denied topics and their similarity: guardrails.topics (reported from REPORT_FRACTION of it).
"""
from dataclasses import dataclass

from django.utils.text import capfirst

from appliance.answering.checking import is_withheld_type
from appliance.plain_words import entity_name, entity_words, score_words
from guardrails.policy import Policy
from guardrails.topics import report_from

ACTION_WORDS = {"block": "blocked", "sensitive": "kept inside", None: "report only"}
ACTION_CONSEQUENCES = {
    "block": "Questions with {name} are now refused before anything is retrieved.",
    "sensitive": "Questions with {name} are now answered only inside the perimeter.",
    None: "Questions with {name} may now be answered outside the perimeter; the finding is only recorded for officers.",
}
LABEL_WORDS = {"public": "not raised by it", "internal": "internal", "confidential": "confidential",
               "restricted": "restricted"}
ROLE_WORDS = {"analyst": "Analysts", "admin": "Admins", "compliance": "Compliance officers"}
PATTERN_ACTION_WORDS = {"block": "block", "sensitive": "sensitive: perimeter only"}
PATTERN_CONSEQUENCES = {"block": "Questions matching it are now refused.",
                        "sensitive": "Questions matching it are now answered only inside the perimeter."}


@dataclass(frozen=True)
class Change:
    what: str         # the change itself: "Phone number: kept inside → report only."
    consequence: str  # what it does to people: "Questions with a phone number may now be …"


def changes_between(current: Policy, draft: Policy) -> list[Change]:
    """What DRAFT changes from CURRENT, in the editor's order; [] when they screen alike."""
    return [
        *entity_changes(current, draft),
        *score_changes(current, draft),
        *pattern_changes(current.patterns, draft.patterns),
        *topic_changes(current, draft),
        *limit_changes(current, draft),
    ]


def entity_changes(current: Policy, draft: Policy) -> list[Change]:
    entities = (set(current.entity_actions) | set(draft.entity_actions) | set(current.entity_labels)
                | set(draft.entity_labels) | set(current.entity_min_scores) | set(draft.entity_min_scores)
                | {e for types in (*current.passage_reveal.values(), *draft.passage_reveal.values()) for e in types})
    changes = []
    for entity in sorted(entities, key=lambda e: (entity_words(e).casefold(), e)):
        changes += one_entity_changes(entity, current, draft)
    return changes


def one_entity_changes(entity: str, current: Policy, draft: Policy) -> list[Change]:
    words, name = capfirst(entity_words(entity)), entity_name(entity)
    masking = masking_consequence(entity, current, draft)
    changes = []
    before, after = current.action_for_entity(entity), draft.action_for_entity(entity)
    if before != after:
        consequence = ACTION_CONSEQUENCES[after].format(name=name)
        if before == "block":
            consequence += " They were refused before."
        changes.append(Change(f"{words}: {ACTION_WORDS[before]} → {ACTION_WORDS[after]}.",
                              join(consequence, masking)))
        masking = ""
    before, after = current.label_for_entity(entity), draft.label_for_entity(entity)
    if before != after:
        changes.append(Change(
            f"Documents indexed from now on: a passage with {name} is labelled {LABEL_WORDS[after]} "
            f"(was {LABEL_WORDS[before]}).",
            join("Documents already indexed keep their labels until re-indexed.", perimeter_of_label(before, after),
                 masking)))
    # Only a type's own minimum: a change of the general one is listed once, in score_changes.
    if current.entity_min_scores.get(entity) != draft.entity_min_scores.get(entity):
        before, after = current.min_score_for(entity), draft.min_score_for(entity)
        changes.append(Change(
            f"{words}: counted from a score of {minimum_words(draft, entity)} (was {minimum_words(current, entity)}).",
            "Weaker matches now count as this personal data." if after < before
            else "It changes nothing: the general minimum is the same." if after == before
            else "Weaker matches of it are now ignored."))
    return changes + reveal_changes(entity, current, draft)


def minimum_words(policy: Policy, entity: str) -> str:
    own = policy.entity_min_scores.get(entity)
    return score_words(own) if own is not None else f"{score_words(policy.pii_min_score)}, the general minimum"


def masking_consequence(entity: str, current: Policy, draft: Policy) -> str:
    before, after = is_withheld_type(current, entity), is_withheld_type(draft, entity)
    if before == after:
        return ""
    name = entity_name(entity)
    if after:
        return f"{capfirst(name)} in answers and source passages is now masked for analysts (was shown)."
    return f"{capfirst(name)} in answers and source passages is now shown to analysts (was masked)."


def perimeter_of_label(before: str, after: str) -> str:
    if before == "public" and after != "public":
        return "Such passages are then answered only inside the perimeter."
    if before != "public" and after == "public":
        return "Such passages may then be answered by models outside the perimeter."
    return ""


def reveal_changes(entity: str, current: Policy, draft: Policy) -> list[Change]:
    changes = []
    words, name = capfirst(entity_words(entity)), entity_name(entity)
    for role in sorted(set(current.passage_reveal) | set(draft.passage_reveal)):
        before, after = current.may_reveal([role], entity), draft.may_reveal([role], entity)
        people = ROLE_WORDS.get(role, role)
        if after and not before:
            changes.append(Change(f"{words}: {people.lower()} may now reveal it in a source passage.",
                                  f"{people} may show {name} unmasked in a passage they open; each reveal is "
                                  "recorded in the audit ledger."))
        elif before and not after:
            changes.append(Change(f"{words}: {people.lower()} may no longer reveal it in a source passage.",
                                  f"{capfirst(name)} stays masked in the passages {people.lower()} open."))
    return changes


def score_changes(current: Policy, draft: Policy) -> list[Change]:
    changes = []
    before, after = current.pii_min_score, draft.pii_min_score
    if before != after:
        changes.append(Change(
            f"Minimum PII score: {score_words(before)} → {score_words(after)}.",
            ("Weaker personal-data findings now count: more questions may be kept inside or blocked."
             if after < before else "Weaker personal-data findings are now ignored: fewer questions are kept inside or blocked.")
            + " Types with their own minimum score keep it."))
    before, after = current.injection_min_score, draft.injection_min_score
    if before != after:
        changes.append(Change(
            f"Injection classifier threshold: {score_words(before)} → {score_words(after)}.",
            f"Questions the classifier rates from {score_words(after)} are blocked as attacks: "
            + ("more questions are blocked." if after < before else "fewer questions are blocked.")))
    before, after = current.topic_min_similarity, draft.topic_min_similarity
    if before != after:
        changes.append(Change(
            f"Denied-topic similarity: {score_words(before)} → {score_words(after)} "
            f"(blocks from {score_words(after)}, reported from {score_words(report_from(after))}).",
            "Every denied topic now catches " + ("more questions." if after < before else "fewer questions.")))
    return changes


def topic_changes(current: Policy, draft: Policy) -> list[Change]:
    before = {topic.name: topic for topic in current.denied_topics}
    after = {topic.name: topic for topic in draft.denied_topics}
    thresholds = (f"blocks from {score_words(draft.topic_min_similarity)}, "
                  f"reported from {score_words(report_from(draft.topic_min_similarity))}")
    changes = []
    for name, topic in after.items():
        if name not in before:
            changes.append(Change(f"New denied topic “{name}” ({thresholds}).",
                                  "Questions close to its " + ("example" if len(topic.examples) == 1 else f"{len(topic.examples)} examples") + " are refused."))
        elif topic.examples != before[name].examples:
            added = len(set(topic.examples) - set(before[name].examples))
            removed = len(set(before[name].examples) - set(topic.examples))
            counts = ", ".join(part for part in (added and f"{examples_words(added)} added",
                                                 removed and f"{examples_words(removed)} removed") if part)
            changes.append(Change(f"Denied topic “{name}”: {counts or 'examples reordered'}.",
                                  "Which questions it catches changes; try them on the test bench."))
    for name in before:
        if name not in after:
            changes.append(Change(f"Denied topic “{name}” removed.",
                                  "Questions on it are no longer blocked or reported for it."))
    return changes


def examples_words(count: int) -> str:
    return f"{count} example" if count == 1 else f"{count} examples"


def pattern_changes(current, draft) -> list[Change]:
    before = {pattern.name: pattern for pattern in current}
    after = {pattern.name: pattern for pattern in draft}
    changes = []
    for name, pattern in after.items():
        old = before.get(name)
        if old is None:
            changes.append(Change(f"New pattern “{name}” ({PATTERN_ACTION_WORDS[pattern.action]}): {pattern.regex}",
                                  PATTERN_CONSEQUENCES[pattern.action]))
            continue
        if old.action != pattern.action:
            changes.append(Change(
                f"Pattern “{name}”: {PATTERN_ACTION_WORDS[old.action]} → {PATTERN_ACTION_WORDS[pattern.action]}.",
                PATTERN_CONSEQUENCES[pattern.action]))
        if old.regex != pattern.regex:
            changes.append(Change(f"Pattern “{name}”: regular expression {old.regex} → {pattern.regex}",
                                  "Which questions it catches changes; try them on the test bench."))
    for name, pattern in before.items():
        if name not in after:
            changes.append(Change(f"Pattern “{name}” removed.",
                                  "Questions matching it are no longer "
                                  + ("refused." if pattern.action == "block" else "kept inside the perimeter for it.")))
    return changes


def limit_changes(current: Policy, draft: Policy) -> list[Change]:
    changes = []
    before, after = current.max_question_chars, draft.max_question_chars
    if before != after:
        low, high = sorted((before, after))
        changes.append(Change(
            f"Longest question: {before:,} → {after:,} characters.",
            f"Questions of {low + 1:,} to {high:,} characters are now "
            + ("blocked before any other check." if after < before else "screened and may be answered (were blocked).")))
    if current.refusal_text != draft.refusal_text:
        changes.append(Change("Refusal text changed.",
                              f"An analyst whose question is blocked now reads: “{draft.refusal_text}”"))
    return changes


def join(*sentences: str) -> str:
    return " ".join(sentence for sentence in sentences if sentence)
