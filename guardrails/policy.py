"""The screening policy: what makes a question sensitive, what blocks it, and what the analyst is told.

A policy is a plain, validated value (Policy). Compliance officers edit it in the browser; every
save publishes a new, numbered PolicyVersion that is never changed afterwards (the database refuses
UPDATE and DELETE on that table), and every verdict names the version it applied. So "blocked under
policy v7" means the same thing for as long as the audit trail is kept.

Rules, as stored (RULES_FIELDS) and checked by Policy.from_rules():

- entity_actions: {entity type: "block" | "sensitive"}; a type not listed is only reported.
- entity_min_scores: {entity type: score}, overriding pii_min_score for that type.
- pii_min_score: a PII finding below this score is ignored.
- injection_min_score: the injection classifier's probability from which a question is blocked.
- topic_min_similarity: cosine similarity to a denied topic's example from which a question is blocked.
- denied_topics: [{"name", "examples": [...]}].
- patterns: [{"name", "regex", "action": "block" | "sensitive"}], the organisation's own identifiers.
- refusal_text: shown to the analyst when a question is blocked.
- max_question_chars: longer questions are blocked with that reason, before any detector runs.
- entity_labels: {entity type: "public" | "internal" | "confidential" | "restricted"}, the label a
  passage at ingestion earns from personal data of that type ("public": the type raises nothing); a
  type not listed counts as confidential (guardrails.sensitivity). Versions published before this
  field existed have none stored and read as the shipped default (DEFAULT_ENTITY_LABELS): labels
  were not part of the policy then, so no verdict of theirs changes meaning.
- passage_reveal: {role: [entity types]}, the personal data a role may reveal in a source passage
  it opens (each reveal is a ledger event). Everything else the passage panel masks. Shipped
  empty: nobody sees raw personal data in passages. Versions published before this field existed
  read as empty.
"""
import hashlib
import json
from dataclasses import dataclass
from types import MappingProxyType

import regex

from appliance.errors import ApplianceError
from guardrails.sensitivity import DEFAULT_ENTITY_LABELS, LEVELS, UNKNOWN_ENTITY_LEVEL

ACTIONS = ("block", "sensitive")

RULES_FIELDS = (
    "entity_actions", "entity_min_scores", "pii_min_score", "injection_min_score", "topic_min_similarity",
    "denied_topics", "patterns", "refusal_text", "max_question_chars", "entity_labels", "passage_reveal",
)
# Fields a stored version may lack, and what they read as then (see the module docstring).
OPTIONAL_RULES = {"entity_labels": DEFAULT_ENTITY_LABELS, "passage_reveal": {}}
# Roles a passage_reveal entry may name (appliance.accounts.roles.Role; only analysts open passages today).
ROLES = ("analyst", "admin", "compliance")

# How long one policy pattern may run on one question. Patterns are written by officers, not
# attackers, but a careless one ("(a+)+$") can backtrack for minutes on a crafted question: past
# this limit the question is blocked (fail closed) and the finding names the pattern.
PATTERN_TIMEOUT_SECONDS = 0.05

MAX_QUESTION_CHARS_LIMIT = 100_000

# What the appliance ships with (policy version 1, created by migration 0002).
#
# Government-issued personal ids and payment card numbers block a question outright: nobody needs to
# type them into a chat to ask about documents, and a question that carries one should not be
# stored or answered. Identifiers of people and accounts (names, contact details, bank accounts,
# health and network ids) make it sensitive: it may be answered, but only inside the perimeter.
# Dates, URLs and places are reported only: nearly every business question has one.
DEFAULT_BLOCKED_ENTITIES = (
    "CREDIT_CARD", "CRYPTO", "US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE",
    "UK_NHS", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE",
    "SE_PERSONNUMMER", "NL_BSN", "FR_NIR", "BE_NATIONAL_NUMBER", "DE_TAX_ID",
)
DEFAULT_SENSITIVE_ENTITIES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "NRP", "IBAN_CODE", "US_BANK_NUMBER", "MEDICAL_LICENSE",
    "IP_ADDRESS", "MAC_ADDRESS",
)

DEFAULT_RULES = {
    "entity_actions": {
        **{entity: "block" for entity in DEFAULT_BLOCKED_ENTITIES},
        **{entity: "sensitive" for entity in DEFAULT_SENSITIVE_ENTITIES},
    },
    "entity_min_scores": {},
    "pii_min_score": 0.5,
    "injection_min_score": 0.65,  # chosen on dev: docs/screening.md, "The threshold"
    "topic_min_similarity": 0.75,
    "denied_topics": [],
    "patterns": [],
    "refusal_text": (
        "This question was not sent to any model because it breaks the organisation's question policy. "
        "If you think it should be allowed, ask your compliance officer."
    ),
    "max_question_chars": 4000,
    "entity_labels": dict(DEFAULT_ENTITY_LABELS),
    "passage_reveal": {},
}


class PolicyInvalid(ApplianceError):
    code = "policy_invalid"


@dataclass(frozen=True)
class DeniedTopic:
    name: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class PolicyPattern:
    name: str
    regex: str
    action: str

    @property
    def compiled(self):
        return _compile(self.regex)


@dataclass(frozen=True)
class Policy:
    version: int
    entity_actions: MappingProxyType
    entity_min_scores: MappingProxyType
    pii_min_score: float
    injection_min_score: float
    topic_min_similarity: float
    denied_topics: tuple[DeniedTopic, ...]
    patterns: tuple[PolicyPattern, ...]
    refusal_text: str
    max_question_chars: int
    entity_labels: MappingProxyType
    passage_reveal: MappingProxyType

    @classmethod
    def from_rules(cls, rules: dict, version: int = 0) -> "Policy":
        """A Policy from stored or submitted RULES. Raises PolicyInvalid naming the first bad value."""
        if not isinstance(rules, dict):
            raise PolicyInvalid("The policy must be a JSON object.")
        unknown = sorted(set(rules) - set(RULES_FIELDS))
        if unknown:
            raise PolicyInvalid(f"Unknown policy field {unknown[0]!r}.")
        rules = {**OPTIONAL_RULES, **rules}
        missing = [field for field in RULES_FIELDS if field not in rules]
        if missing:
            raise PolicyInvalid(f"The policy has no {missing[0]!r}.")
        return cls(
            version=version,
            entity_actions=MappingProxyType(_entity_actions(rules["entity_actions"])),
            entity_min_scores=MappingProxyType(_entity_min_scores(rules["entity_min_scores"])),
            pii_min_score=_score("pii_min_score", rules["pii_min_score"]),
            injection_min_score=_score("injection_min_score", rules["injection_min_score"]),
            topic_min_similarity=_score("topic_min_similarity", rules["topic_min_similarity"]),
            denied_topics=_denied_topics(rules["denied_topics"]),
            patterns=_patterns(rules["patterns"]),
            refusal_text=_refusal_text(rules["refusal_text"]),
            max_question_chars=_max_question_chars(rules["max_question_chars"]),
            entity_labels=MappingProxyType(_entity_labels(rules["entity_labels"])),
            passage_reveal=MappingProxyType(_passage_reveal(rules["passage_reveal"])),
        )

    def to_rules(self) -> dict:
        """The stored form; Policy.from_rules(policy.to_rules()) == policy with version 0."""
        return {
            "entity_actions": dict(sorted(self.entity_actions.items())),
            "entity_min_scores": dict(sorted(self.entity_min_scores.items())),
            "pii_min_score": self.pii_min_score,
            "injection_min_score": self.injection_min_score,
            "topic_min_similarity": self.topic_min_similarity,
            "denied_topics": [{"name": t.name, "examples": list(t.examples)} for t in self.denied_topics],
            "patterns": [{"name": p.name, "regex": p.regex, "action": p.action} for p in self.patterns],
            "refusal_text": self.refusal_text,
            "max_question_chars": self.max_question_chars,
            "entity_labels": dict(sorted(self.entity_labels.items())),
            "passage_reveal": {role: list(types) for role, types in sorted(self.passage_reveal.items())},
        }

    def min_score_for(self, entity_type: str) -> float:
        return self.entity_min_scores.get(entity_type, self.pii_min_score)

    def action_for_entity(self, entity_type: str) -> str | None:
        """"block", "sensitive", or None for a type the policy only reports."""
        return self.entity_actions.get(entity_type)

    def label_for_entity(self, entity_type: str) -> str:
        """The label personal data of ENTITY_TYPE gives a passage; "public" when it raises nothing."""
        return self.entity_labels.get(entity_type, UNKNOWN_ENTITY_LEVEL)

    def may_reveal(self, roles, entity_type: str) -> bool:
        """Whether one of ROLES may reveal personal data of ENTITY_TYPE in a source passage."""
        return any(entity_type in self.passage_reveal.get(role, ()) for role in roles)


def rules_digest(rules: dict) -> str:
    """sha256 of the canonical JSON of RULES: what a trace commits to besides the version number."""
    canonical = json.dumps(rules, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _entity_actions(value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PolicyInvalid("entity_actions must map entity types to 'block' or 'sensitive'.")
    for entity, action in value.items():
        _check_entity_name(entity)
        if action not in ACTIONS:
            raise PolicyInvalid(f"The action for {entity} must be 'block' or 'sensitive', not {action!r}.")
    return dict(value)


def _entity_labels(value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PolicyInvalid("entity_labels must map entity types to a sensitivity level.")
    for entity, level in value.items():
        _check_entity_name(entity)
        if level not in LEVELS:
            raise PolicyInvalid(f"The label for {entity} must be one of {', '.join(LEVELS)}, not {level!r}.")
    return dict(value)


def _passage_reveal(value) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise PolicyInvalid("passage_reveal must map roles to lists of entity types.")
    reveal = {}
    for role, types in value.items():
        if role not in ROLES:
            raise PolicyInvalid(f"passage_reveal names {role!r}, which is not a role ({', '.join(ROLES)}).")
        if not isinstance(types, list):
            raise PolicyInvalid(f"passage_reveal for {role} must be a list of entity types.")
        for entity in types:
            _check_entity_name(entity)
        reveal[role] = tuple(sorted(set(types)))
    return reveal


def _entity_min_scores(value) -> dict[str, float]:
    if not isinstance(value, dict):
        raise PolicyInvalid("entity_min_scores must map entity types to scores from 0 to 1.")
    for entity, score in value.items():
        _check_entity_name(entity)
        _score(f"The minimum score for {entity}", score)
    return {entity: float(score) for entity, score in value.items()}


def _check_entity_name(entity) -> None:
    if not isinstance(entity, str) or not regex.fullmatch(r"[A-Z][A-Z0-9_]{1,63}", entity):
        raise PolicyInvalid(f"{entity!r} is not an entity type name (capitals, digits and _).")


def _score(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise PolicyInvalid(f"{name} must be a number from 0 to 1, not {value!r}.")
    return float(value)


def _text(name: str, value, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyInvalid(f"{name} must not be empty.")
    if len(value) > max_length:
        raise PolicyInvalid(f"{name} is longer than {max_length} characters.")
    return value.strip()


def _refusal_text(value) -> str:
    return _text("The refusal text", value, 1000)


def _max_question_chars(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUESTION_CHARS_LIMIT:
        raise PolicyInvalid(f"max_question_chars must be a whole number from 1 to {MAX_QUESTION_CHARS_LIMIT}, not {value!r}.")
    return value


def _denied_topics(value) -> tuple[DeniedTopic, ...]:
    if not isinstance(value, list):
        raise PolicyInvalid("denied_topics must be a list.")
    topics = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "examples"}:
            raise PolicyInvalid("Each denied topic needs a name and examples, and nothing else.")
        name = _text("A denied topic's name", item["name"], 100)
        examples = item["examples"]
        if not isinstance(examples, list) or not examples:
            raise PolicyInvalid(f"Denied topic {name!r} needs at least one example question.")
        topics.append(DeniedTopic(name, tuple(_text(f"An example of {name!r}", e, 500) for e in examples)))
    names = [topic.name for topic in topics]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PolicyInvalid(f"Denied topic {duplicates[0]!r} is listed twice.")
    return tuple(topics)


def _patterns(value) -> tuple[PolicyPattern, ...]:
    if not isinstance(value, list):
        raise PolicyInvalid("patterns must be a list.")
    patterns = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "regex", "action"}:
            raise PolicyInvalid("Each pattern needs a name, a regex and an action, and nothing else.")
        name = _text("A pattern's name", item["name"], 100)
        source = _text(f"The regex of pattern {name!r}", item["regex"], 500)
        try:
            _compile(source)
        except regex.error as error:
            raise PolicyInvalid(f"The regex of pattern {name!r} does not compile: {error}.") from None
        if _compile(source).search("") is not None:
            raise PolicyInvalid(f"The regex of pattern {name!r} matches empty text; it would flag every question.")
        if item["action"] not in ACTIONS:
            raise PolicyInvalid(f"The action of pattern {name!r} must be 'block' or 'sensitive', not {item['action']!r}.")
        patterns.append(PolicyPattern(name, source, item["action"]))
    return tuple(patterns)


_compiled: dict[str, "regex.Pattern"] = {}


def _compile(source: str):
    """Patterns are compiled once per process; case-insensitive, as officers write them."""
    pattern = _compiled.get(source)
    if pattern is None:
        pattern = _compiled[source] = regex.compile(source, regex.IGNORECASE)
    return pattern
