"""Publishing a new version of the screening policy, and finding the one in force."""
from django.db import IntegrityError, transaction

from appliance.audit.recording import record_event
from guardrails.models import PolicyVersion
from guardrails.policy import DEFAULT_RULES, Policy, rules_digest

SHIPPED_DEFAULT_NOTE = "The policy the appliance ships with."


def publish_policy(rules: dict, change_note: str, actor=None) -> PolicyVersion:
    """Validate RULES and save them as the next version, with its audit event, in one transaction.
    Raises PolicyInvalid naming the first bad value; nothing is saved then."""
    policy = Policy.from_rules(rules)
    rules = policy.to_rules()  # normalised: sorted maps, stripped text
    with transaction.atomic():
        previous = PolicyVersion.objects.select_for_update().order_by("-number").first()
        number = (previous.number if previous else 0) + 1
        version = PolicyVersion.objects.create(
            number=number,
            published_by=actor.get_username() if actor is not None else "appliance",
            change_note=change_note.strip()[:500],
            rules=rules,
            digest=rules_digest(rules),
        )
        replay = last_replay_summary(actor, rules, previous.number if previous else 0) if actor is not None else None
        record_event(
            "policy.published", actor, version, number=number, digest=version.digest,
            changed=sorted(changed_fields(previous.rules if previous else {}, rules)),
            **({"last_replay": replay} if replay else {}),
        )
    return version


def last_replay_summary(actor, rules: dict, version_in_force: int) -> dict | None:
    from guardrails.testbench import last_replay_summary as summary  # testbench imports this module

    return summary(actor, rules, version_in_force)


def changed_fields(before: dict, after: dict) -> set[str]:
    return {field for field in set(before) | set(after) if before.get(field) != after.get(field)}


def current_policy_version() -> PolicyVersion:
    """The newest published version; publishes the shipped default first when there is none."""
    version = PolicyVersion.objects.order_by("-number").first()
    if version is not None:
        return version
    try:
        return publish_policy(DEFAULT_RULES, SHIPPED_DEFAULT_NOTE)
    except IntegrityError:  # another process published version 1 at the same moment
        return PolicyVersion.objects.order_by("-number").first()


def current_policy() -> Policy:
    return current_policy_version().to_policy()

