"""The screening policy: validation, publishing versions, and versions that never change."""
import pytest
from django.db import DatabaseError, connection, transaction

from appliance.audit.models import LedgerEntry
from guardrails.models import PolicyVersion
from guardrails.policy import DEFAULT_RULES, Policy, PolicyInvalid, rules_digest
from guardrails.publishing import current_policy, current_policy_version, publish_policy


def rules(**changes) -> dict:
    return {**DEFAULT_RULES, **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"entity_actions": {"PERSON": "allow"}}, "The action for PERSON must be 'block' or 'sensitive', not 'allow'."),
    ({"entity_actions": {"person": "block"}}, "'person' is not an entity type name (capitals, digits and _)."),
    ({"pii_min_score": 1.5}, "pii_min_score must be a number from 0 to 1, not 1.5."),
    ({"injection_min_score": True}, "injection_min_score must be a number from 0 to 1, not True."),
    ({"max_question_chars": 0}, "max_question_chars must be a whole number from 1 to 100000, not 0."),
    ({"refusal_text": "  "}, "The refusal text must not be empty."),
    ({"denied_topics": [{"name": "Weapons", "examples": []}]}, "Denied topic 'Weapons' needs at least one example question."),
    ({"denied_topics": [{"name": "M&A", "examples": ["a"]}, {"name": "M&A", "examples": ["b"]}]},
     "Denied topic 'M&A' is listed twice."),
    ({"patterns": [{"name": "Case", "regex": "CASE-(\\d+", "action": "block"}]},
     "The regex of pattern 'Case' does not compile: missing ) at position 9."),
    ({"patterns": [{"name": "Any", "regex": "\\d*", "action": "block"}]},
     "The regex of pattern 'Any' matches empty text; it would flag every question."),
    ({"patterns": [{"name": "Case", "regex": "CASE-\\d+", "action": "hide"}]},
     "The action of pattern 'Case' must be 'block' or 'sensitive', not 'hide'."),
    ({"entity_labels": {"LOCATION": "secret"}},
     "The label for LOCATION must be one of public, internal, confidential, restricted, not 'secret'."),
    ({"entity_labels": ["LOCATION"]}, "entity_labels must map entity types to a sensitivity level."),
])
def test_it_names_the_first_bad_value(changes, message):
    with pytest.raises(PolicyInvalid) as raised:
        Policy.from_rules(rules(**changes))

    assert raised.value.message == message


def test_it_refuses_unknown_and_missing_fields():
    with pytest.raises(PolicyInvalid, match="Unknown policy field 'colour'."):
        Policy.from_rules(rules(colour="red"))
    incomplete = dict(DEFAULT_RULES)
    del incomplete["patterns"]
    with pytest.raises(PolicyInvalid, match="The policy has no 'patterns'."):
        Policy.from_rules(incomplete)


def test_it_reads_a_version_stored_before_labels_were_part_of_the_policy_with_the_shipped_labels():
    stored = dict(DEFAULT_RULES)
    del stored["entity_labels"]

    policy = Policy.from_rules(stored)

    assert policy.label_for_entity("LOCATION") == "public"
    assert policy.label_for_entity("IBAN_CODE") == "restricted"
    assert policy.label_for_entity("SHOE_SIZE") == "confidential"


def test_it_round_trips_rules():
    policy = Policy.from_rules(rules(patterns=[{"name": "Employee", "regex": "EMP-\\d{6}", "action": "sensitive"}]))

    assert Policy.from_rules(policy.to_rules()) == policy


@pytest.mark.django_db
@pytest.mark.services
def test_it_publishes_the_shipped_default_as_version_1_when_there_is_none():
    assert not PolicyVersion.objects.exists()

    policy = current_policy()

    assert policy.version == 1
    assert policy.entity_actions["CREDIT_CARD"] == "block"
    assert PolicyVersion.objects.get().published_by == "appliance"


@pytest.mark.django_db
@pytest.mark.services
def test_it_publishes_numbered_versions_with_an_audit_event(officer):
    current_policy_version()

    version = publish_policy(rules(max_question_chars=2000), "Shorter questions", officer)

    assert (version.number, version.published_by, version.change_note) == (2, "charlie", "Shorter questions")
    assert version.digest == rules_digest(version.rules)
    assert current_policy().max_question_chars == 2000
    event = LedgerEntry.objects.filter(action="policy.published").last()
    assert (event.actor_name, event.details["number"], event.details["changed"]) == ("charlie", 2, ["max_question_chars"])


@pytest.mark.django_db
@pytest.mark.services
def test_it_saves_nothing_for_an_invalid_policy(officer):
    current_policy_version()

    with pytest.raises(PolicyInvalid):
        publish_policy(rules(pii_min_score=-1), "Broken", officer)

    assert PolicyVersion.objects.count() == 1
    assert LedgerEntry.objects.filter(action="policy.published").count() == 1


@pytest.mark.django_db
@pytest.mark.services
@pytest.mark.parametrize("statement", [
    "UPDATE guardrails_policyversion SET change_note = 'rewritten'",
    "DELETE FROM guardrails_policyversion",
])
def test_the_database_refuses_to_change_a_published_version(statement):
    version = current_policy_version()

    with pytest.raises(DatabaseError, match="guardrails_policyversion is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    version.refresh_from_db()
    assert version.change_note == "The policy the appliance ships with."


@pytest.mark.django_db
@pytest.mark.services
def test_the_orm_cannot_delete_a_published_version_either():
    version = current_policy_version()

    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            version.delete()
    assert PolicyVersion.objects.filter(pk=version.pk).exists()
