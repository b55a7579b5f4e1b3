"""The policy editor's test bench: a question, or the last stored questions, screened by the real
screener under the draft in the form and under the version in force; the worker runs it (here:
the task function, called directly), the ledger records it without the text."""
import json
import uuid

import pytest

from appliance.answering.models import Conversation, Exchange
from appliance.audit.models import LedgerEntry
from appliance.audit.recording import record_event
from guardrails.models import PolicyTrial
from guardrails.policy import DEFAULT_RULES
from guardrails.publishing import current_policy_version, publish_policy
from guardrails.tasks import run_policy_trial
from guardrails.testbench import request_question_trial, request_replay

pytestmark = [pytest.mark.django_db, pytest.mark.services]

MERGERS = "Which companies are we about to acquire?"
NEW_URLS = ["/compliance/policy/bench/question/", "/compliance/policy/bench/replay/",
            "/compliance/policy/bench/trials/1/"]


def draft(**changes) -> dict:
    return {**DEFAULT_RULES, **changes}


MERGERS_DRAFT = draft(denied_topics=[{"name": "Mergers", "examples": [MERGERS]}])


def stored_question(user, question: str, trace_id: str = "", findings: list | None = None) -> Exchange:
    """An answered exchange, as the worker leaves it, with its trace (question sealed) in the ledger."""
    trace_id = trace_id or uuid.uuid4().hex
    exchange = Exchange.objects.create(conversation=Conversation.objects.create(user=user), question=question,
                                       status=Exchange.Status.ANSWERED, outcome=Exchange.Outcome.ANSWERED,
                                       trace_id=trace_id)
    record_event("answer.answered", user, ("trace", trace_id), sealed={"question": question},
                 verdict={"action": "clean", "findings": findings or []})
    return exchange


def ledger_text() -> str:
    return json.dumps([[entry.action, entry.details] for entry in LedgerEntry.objects.all()])


def test_it_screens_a_question_under_the_draft_and_the_current_policy(officer):
    current_policy_version()
    trial = request_question_trial(officer, MERGERS_DRAFT, MERGERS)
    assert trial.sealed_question is not None and MERGERS not in json.dumps(trial.sealed_question)

    run_policy_trial(trial.pk)

    trial.refresh_from_db()
    assert trial.status == PolicyTrial.Status.DONE and trial.sealed_question is None
    assert trial.result["draft"]["words"] == "blocked"
    assert trial.result["current"]["words"] == "clean"
    assert {"words": "it matches the denied topic 'Mergers'", "action": "block", "action_words": "blocks",
            "code": "denied_topic"} in trial.result["draft"]["findings"]
    event = LedgerEntry.objects.get(action="policy.tested")
    assert (event.actor_name, event.details["draft_action"], event.details["current_action"]) == ("charlie", "block", "clean")
    assert event.details["current_version"] == 1
    assert "acquire" not in ledger_text()


def test_it_names_personal_data_in_plain_words(officer):
    current_policy_version()
    trial = request_question_trial(officer, draft(entity_actions={**DEFAULT_RULES["entity_actions"], "PERSON": "block"}),
                                   "What did Maria Keller agree with the supplier?")

    run_policy_trial(trial.pk)

    trial.refresh_from_db()
    assert (trial.result["draft"]["words"], trial.result["current"]["words"]) == ("blocked", "kept inside: sensitive")
    assert {"words": "it contains a person's name", "action": "sensitive", "action_words": "keeps it inside",
            "code": "PERSON"} in trial.result["current"]["findings"]


def test_it_shows_a_stored_question_newly_blocked_by_a_draft_in_the_replay(officer, analyst):
    current_policy_version()
    acquire = stored_question(analyst, MERGERS)
    stored_question(analyst, "How many days of annual leave do we get?")
    named = stored_question(analyst, "What did Maria Keller agree with the supplier?")
    rules = {**MERGERS_DRAFT, "entity_actions": {k: v for k, v in DEFAULT_RULES["entity_actions"].items() if k != "PERSON"}}
    trial = request_replay(officer, rules, 100)
    assert trial.total == 3

    run_policy_trial(trial.pk)

    trial.refresh_from_db()
    assert (trial.status, trial.done, trial.total) == (PolicyTrial.Status.DONE, 3, 3)
    assert trial.result["counts"] == {"newly_blocked": 1, "newly_allowed": 0, "route_changed": 1, "unchanged": 1}
    rows = {row["exchange"]: row for row in trial.result["changes"]}
    assert (rows[acquire.pk]["change"], rows[acquire.pk]["current"], rows[acquire.pk]["draft"]) == (
        "newly_blocked", "clean", "blocked")
    assert rows[acquire.pk]["why"] == ["it matches the denied topic 'Mergers'"]
    assert (rows[named.pk]["change"], rows[named.pk]["draft"]) == ("route_changed", "clean")
    seq = LedgerEntry.objects.get(target_type="trace", target_id=acquire.trace_id).seq
    assert rows[acquire.pk]["seq"] == seq
    event = LedgerEntry.objects.get(action="policy.replayed")
    assert event.actor_name == "charlie"
    assert {k: event.details[k] for k in ("asked", "replayed", "newly_blocked", "newly_allowed", "route_changed",
                                          "current_version")} == {
        "asked": 100, "replayed": 3, "newly_blocked": 1, "newly_allowed": 0, "route_changed": 1, "current_version": 1}
    assert "acquire" not in ledger_text() and "Keller" not in ledger_text()


def test_it_shows_the_replay_with_its_progress_and_trace_links(client, officer, analyst):
    current_policy_version()
    acquire = stored_question(analyst, MERGERS)
    trial = request_replay(officer, MERGERS_DRAFT, 10)
    client.force_login(officer)
    waiting = client.get(f"/compliance/policy/bench/trials/{trial.pk}/").json()
    assert (waiting["in_progress"], waiting["done"], waiting["total"]) == (True, 0, 1)


    run_policy_trial(trial.pk)

    state = client.get(f"/compliance/policy/bench/trials/{trial.pk}/").json()
    seq = LedgerEntry.objects.get(target_type="trace", target_id=acquire.trace_id).seq
    assert state["in_progress"] is False
    assert '<progress id="replay-progress" max="1" value="1">' in state["html"]
    assert "Replayed 1 stored question under" in state["html"] and "Replaying" not in state["html"]
    assert "<strong>1</strong> newly blocked" in state["html"]
    assert f'<a href="/compliance/ledger/entries/{seq}/">entry #{seq}</a>' in state["html"]
    assert "acquire" not in ledger_text()


def test_a_changed_row_links_to_the_answer_trace_not_a_later_review_of_it(client, officer, analyst):
    current_policy_version()
    # When it was answered, a pattern of the policy then in force kept a word of it inside.
    acquire = stored_question(analyst, MERGERS, findings=[
        {"detector": "policy_pattern", "type": "Deal words", "start": 6, "end": 15, "action": "sensitive"}])
    trace = LedgerEntry.objects.get(target_type="trace", target_id=acquire.trace_id)
    # Officers reviewed the trace since: those entries target the same trace, and come later.
    record_event("review.reviewed", officer, ("trace", acquire.trace_id), entry=trace.seq)
    record_event("review.resolved", officer, ("trace", acquire.trace_id), entry=trace.seq)
    trial = request_replay(officer, MERGERS_DRAFT, 10)
    run_policy_trial(trial.pk)
    client.force_login(officer)

    state = client.get(f"/compliance/policy/bench/trials/{trial.pk}/").json()

    trial.refresh_from_db()
    assert [row["seq"] for row in trial.result["changes"]] == [trace.seq]
    assert f'<a href="/compliance/ledger/entries/{trace.seq}/">entry #{trace.seq}</a>' in state["html"]
    # The officer sees which question changes, its personal data masked as the queue masks it.
    assert "Which [Deal words] are we about to acquire?" in state["html"]
    assert "companies" not in state["html"]
    read = LedgerEntry.objects.filter(action="ledger.read").last()
    assert (read.actor_name, read.details["what"], read.details["questions_shown"]) == (
        "charlie", "policy_replay", [trace.seq])


def test_it_queues_a_question_from_the_form_values(client, officer):
    current_policy_version()
    client.force_login(officer)
    from tests.test_policy_editor import submitted_form

    data = submitted_form(client, denied_topics=f"Mergers: {MERGERS}", change_note="", bench_question=MERGERS)
    response = client.post("/compliance/policy/bench/question/", data)

    assert response.status_code == 202
    trial = PolicyTrial.objects.get()
    assert response.json() == {"url": f"/compliance/policy/bench/trials/{trial.pk}/"}
    assert trial.draft_rules["denied_topics"] == [{"name": "Mergers", "examples": [MERGERS]}]
    assert trial.current_version == 1 and trial.status == PolicyTrial.Status.QUEUED


def test_it_says_what_is_wrong_with_the_draft_or_the_question(client, officer):
    current_policy_version()
    client.force_login(officer)
    from tests.test_policy_editor import submitted_form

    bad_topics = client.post("/compliance/policy/bench/question/",
                             submitted_form(client, denied_topics="Mergers", bench_question=MERGERS))
    empty = client.post("/compliance/policy/bench/question/", submitted_form(client, bench_question="  "))
    too_many = client.post("/compliance/policy/bench/replay/", submitted_form(client, replay_count="9000"))

    assert bad_topics.json() == {"error": "Denied topics: Line 1: write “Topic name: example question”."}
    assert (empty.status_code, empty.json()) == (400, {"error": "Type a question to screen."})
    assert too_many.json() == {"error": "Replay from 1 to 5,000 questions."}
    assert not PolicyTrial.objects.exists()


def test_it_records_the_last_replay_with_the_published_version(officer, analyst):
    current_policy_version()
    stored_question(analyst, MERGERS)
    trial = request_replay(officer, MERGERS_DRAFT, 10)
    run_policy_trial(trial.pk)

    publish_policy(MERGERS_DRAFT, "Mergers are off limits", officer)

    event = LedgerEntry.objects.get(action="policy.published", details__number=2)
    assert event.details["last_replay"] == {
        "trial": trial.pk, "draft_digest": trial.draft_digest, "compared_with_version": 1, "same_rules": True,
        "replayed": 1, "newly_blocked": 1, "newly_allowed": 0, "route_changed": 0, "unchanged": 0}


def test_it_keeps_other_officers_trials_to_themselves(client, officer, roles):
    from tests.conftest import make_person

    current_policy_version()
    trial = request_replay(officer, MERGERS_DRAFT, 10)
    client.force_login(make_person("erin", "compliance"))

    assert client.get(f"/compliance/policy/bench/trials/{trial.pk}/").status_code == 404


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
@pytest.mark.parametrize("url", NEW_URLS)
def test_it_refuses_the_bench_to_anyone_but_an_officer(client, request, person, url):
    client.force_login(request.getfixturevalue(person))

    response = client.post(url) if "trials" not in url else client.get(url)

    assert response.status_code == 403


def test_a_classifier_score_it_only_reports_is_not_called_an_instruction():
    from guardrails.findings import Finding
    from guardrails.testbench import finding_shown

    faint = Finding(detector="injection_classifier", type="injection", start=0, end=40, score=0.39, action="report")
    acted = Finding(detector="injection_classifier", type="injection", start=0, end=40, score=0.91, action="block")

    assert finding_shown(faint)["words"] == ("the attack detector saw a faint likeness to an instruction, "
                                             "not enough to act on")
    assert finding_shown(acted)["words"] == "it reads like an instruction to the assistant"


def test_a_denied_topic_it_only_reports_says_what_that_does():
    from guardrails.findings import Finding
    from guardrails.testbench import finding_shown

    near = Finding(detector="denied_topic", type="Mergers", start=0, end=40, score=0.7, action="report")
    matched = Finding(detector="denied_topic", type="Mergers", start=0, end=40, score=0.9, action="block")

    assert finding_shown(near) == {
        "words": "it comes close to the denied topic 'Mergers', not close enough to block", "action": "report",
        "action_words": "recorded for officers; does not stop the question", "code": "denied_topic"}
    assert finding_shown(matched)["words"] == "it matches the denied topic 'Mergers'"


def test_a_denied_topic_near_miss_gives_its_similarity_and_the_thresholds_under_the_policy():
    from guardrails.findings import Finding
    from guardrails.policy import Policy
    from guardrails.testbench import finding_shown

    near = Finding(detector="denied_topic", type="Mergers", start=0, end=40, score=0.6612, action="report")
    policy = Policy.from_rules(draft(topic_min_similarity=0.7, **{k: v for k, v in MERGERS_DRAFT.items()
                                                                  if k == "denied_topics"}))

    assert finding_shown(near, policy)["words"] == (
        "it comes close to the denied topic 'Mergers', not close enough to block "
        "(similarity 0.66; blocks from 0.70, reported from 0.63)")
