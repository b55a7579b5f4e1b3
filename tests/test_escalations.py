"""Escalations reach a person: an escalation names another compliance officer or a team with
officers, who find it in their inbox (counted in the navigation) and in the queue's "Assigned to
me or my team", get an e-mail when SMTP is configured, and resolve it with a note. Every step is a
ledger entry. Also the officer trial's findings: a refused escalation keeps what was typed, and an
answer already marked reviewed says by whom and is marked again only on purpose."""
import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail

from appliance.accounts.roles import Role
from appliance.audit.models import LedgerEntry
from appliance.audit.reading import unsealed
from tests.conftest import make_person
from tests.test_review_queue import counts_of, record_answer, rows_of

pytestmark = [pytest.mark.django_db]

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOON, tick=True):
        yield


@pytest.fixture(autouse=True)
def checkpoint_file(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"


@pytest.fixture(autouse=True)
def no_smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_HOST = ""


@pytest.fixture
def colleague(roles):
    person = make_person("erin", Role.COMPLIANCE)
    person.email = "erin@example.org"
    person.save()
    return person


@pytest.fixture
def answers(analyst):
    """#1 a plain public answer; #2 a sensitive one."""
    record_answer("t-plain", analyst, "When does the office open?")
    record_answer("t-sensitive", analyst, "What is Maria Keller's grade?", sensitivity="confidential",
                  route="local-specialist", model="SmolLM2")


def signed_in(client, person):
    client.force_login(person)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def inbox_rows(client) -> list[int]:
    return rows_of(client.get("/compliance/inbox/").content.decode())


def nav_inbox(page: str) -> str:
    return re.search(r'<a href="/compliance/inbox/" id="nav-inbox">(.*?)</a>', page).group(1)


def escalate(client, seq, assignee="erin", note="Salary question: ask HR"):
    """Escalate answer SEQ as the signed-in officer; the page it leads to is opened, so the
    message it shows is read (as a browser would) and does not wait in the session."""
    response = client.post(f"/compliance/ledger/entries/{seq}/review/",
                           {"decision": "escalated", "note": note, "assignee": assignee})
    if response.status_code == 302:
        client.get(response["Location"])
    return response


def field_errors(response) -> dict[str, str]:
    """{field: message} the review form shows beside its fields."""
    return dict(re.findall(r'<p class="field-error" id="(\w+)-error" role="alert">(.*?)</p>',
                           html.unescape(response.content.decode())))


def test_it_puts_an_escalation_in_the_assignees_inbox_and_counts_it_in_the_navigation(client, officer, colleague,
                                                                                      answers):
    response = escalate(signed_in(client, officer), 2)
    assert messages_of(response) == ["Entry #2 escalated."]
    escalation = LedgerEntry.objects.get(action="review.escalated")
    assert (escalation.actor_name, escalation.details) == ("charlie", {"seq": 2, "assignee": "erin"})
    assert unsealed(escalation) == {"note": "Salary question: ask HR"}

    assert inbox_rows(client) == []  # the escalating officer's inbox
    assert nav_inbox(client.get("/compliance/").content.decode()) == "Inbox"

    signed_in(client, colleague)
    assert inbox_rows(client) == [2]
    page = client.get("/compliance/").content.decode()
    assert nav_inbox(page) == "Inbox (1)"
    assert ("Assigned to me or my team 1", "/compliance/?kind=assigned") in counts_of(page)
    assert rows_of(client.get("/compliance/?kind=assigned").content.decode()) == [2]
    read = LedgerEntry.objects.filter(action="ledger.read", details__what="inbox").last()
    assert (read.actor_name, read.details["escalations"]) == ("erin", [escalation.seq])


def test_the_inbox_shows_the_question_masked_the_outcome_and_the_note(client, officer, colleague, analyst):
    record_answer("t-keller", analyst, "What is Maria Keller's grade?", sensitivity="confidential",
                  route="local-specialist", model="SmolLM2",
                  findings=[{"detector": "pii", "type": "PERSON", "start": 8, "end": 20, "action": "sensitive"}])
    escalate(signed_in(client, officer), 1, note="Salary question: ask HR")

    page = signed_in(client, colleague).get("/compliance/inbox/").content.decode()

    row = re.search(r'<tr data-seq="1"[^>]*>(.*?)</tr>', page, re.S).group(1)
    cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert [cells[0], cells[2], cells[3], cells[4]] == [
        "Entry #1", "Answered", "Personal data in the question: person's name", "Salary question: ask HR"]
    assert '<a href="/compliance/ledger/entries/1/?from=inbox">Entry #1</a>' in row
    assert re.fullmatch(r"What is \[[^\]]*name\]'s grade\?", cells[1])  # masked by kind
    assert "Keller" not in page
    read = LedgerEntry.objects.filter(action="ledger.read", details__what="inbox").last()
    assert (read.actor_name, read.details["questions_shown"]) == ("erin", [1])


def test_the_escalated_entry_page_labels_the_form_that_closes_the_escalation_first(client, officer, colleague,
                                                                                   answers):
    escalate(signed_in(client, officer), 2)

    page = signed_in(client, colleague).get("/compliance/ledger/entries/2/").content.decode()

    resolve = re.search(r'<form [^>]*class="stacked resolve-form"[^>]*>(.*?)</form>', page, re.S).group(1)
    assert "<h3>Close this escalation</h3>" in resolve and '<button type="submit">Close this escalation</button>' in resolve
    assert "What was decided (needed to close it)" in resolve
    assert page.index("resolve-form") < page.index('id="review-form"')
    assert page.index('id="review-form"') < page.index("<h3>Or review the answer, leaving the escalation open</h3>")


def test_it_refuses_an_escalation_without_a_colleague_to_reach(client, officer, colleague, analyst, answers):
    signed_in(client, officer)
    refusals = [field_errors(escalate(client, 2, assignee=name))
                for name in ("", "charlie", "alice", "nobody", "team:analysts", "team:nowhere")]

    assert refusals == [
        {"assignee": "Choose the officer or team to escalate this answer to: an escalation must reach someone."},
        {"assignee": "Escalate to another officer: an escalation to yourself reaches nobody new."},
        {"assignee": "“alice” is not a compliance officer: escalate to one."},
        {"assignee": "“nobody” is not a compliance officer: escalate to one."},
        {"assignee": "The team “analysts” has no other compliance officer: escalate to a team that has one."},
        {"assignee": "The team “nowhere” has no other compliance officer: escalate to a team that has one."},
    ]
    assert not LedgerEntry.objects.filter(action="review.escalated").exists()


def test_a_refused_escalation_keeps_the_note_and_the_choice(client, officer, colleague, answers):
    response = escalate(signed_in(client, officer), 2, assignee="", note="Salary <question>: ask HR")

    assert response.status_code == 400
    page = response.content.decode()
    assert ">Salary &lt;question&gt;: ask HR</textarea>" in page
    assert 'aria-invalid="true" aria-describedby="assignee-error"' in page

    response = client.post("/compliance/ledger/entries/2/review/", {"decision": "annotated", "note": "",
                                                                    "assignee": "erin"})
    assert field_errors(response) == {
        "note": "Write a note to annotate this answer: an annotation without a note records nothing."}
    assert '<option value="erin" selected>erin</option>' in response.content.decode()


def test_the_escalate_form_offers_the_other_officers_and_the_teams_with_officers(client, officer, colleague, answers):
    fraud = Group.objects.create(name="Fraud review")
    for person in (officer, colleague, make_person("frank", Role.COMPLIANCE), make_person("gina", Role.ANALYST)):
        person.groups.add(fraud)
    Group.objects.create(name="Empty team")
    page = signed_in(client, officer).get("/compliance/ledger/entries/2/").content.decode()

    options = re.search(r'<select name="assignee" id="id_assignee">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)">([^<]*)</option>', options) == [
        ("", "Choose an officer or team"), ("erin", "erin"), ("frank", "frank"),
        ("team:Fraud review", "Team: Fraud review (2 other officers)")]


def test_it_refuses_to_resolve_without_a_note(client, officer, colleague, answers):
    escalate(signed_in(client, officer), 2)
    escalation = LedgerEntry.objects.get(action="review.escalated")
    signed_in(client, colleague)
    assert f'action="/compliance/ledger/entries/{escalation.seq}/resolve/"' in client.get(
        "/compliance/ledger/entries/2/").content.decode()

    response = client.post(f"/compliance/ledger/entries/{escalation.seq}/resolve/", {"note": "   "})

    assert response["Location"] == "/compliance/ledger/entries/2/"
    assert messages_of(response) == ["Write a note to resolve this escalation: say what was decided."]
    assert not LedgerEntry.objects.filter(action="review.resolved").exists()
    assert inbox_rows(client) == [2]


def test_only_the_assignee_resolves_an_escalation(client, officer, colleague, answers):
    escalate(signed_in(client, officer), 2)
    escalation = LedgerEntry.objects.get(action="review.escalated")

    response = client.post(f"/compliance/ledger/entries/{escalation.seq}/resolve/", {"note": "Done"})

    assert messages_of(response) == ["Only erin can resolve this escalation: it is assigned to them."]
    assert not LedgerEntry.objects.filter(action="review.resolved").exists()


def test_it_resolves_with_a_note_and_every_step_is_a_ledger_entry(client, officer, colleague, answers):
    escalate(signed_in(client, officer), 2)
    escalation = LedgerEntry.objects.get(action="review.escalated")
    signed_in(client, colleague)

    response = client.post(f"/compliance/ledger/entries/{escalation.seq}/resolve/", {"note": "HR confirmed: fine"})

    assert messages_of(response) == ["Escalation of entry #2 resolved."]
    resolved = LedgerEntry.objects.get(action="review.resolved")
    assert (resolved.actor_name, resolved.target_type, resolved.target_id) == ("erin", "trace", "t-sensitive")
    assert resolved.details == {"seq": 2, "escalation": escalation.seq}
    assert unsealed(resolved) == {"note": "HR confirmed: fine"}
    assert inbox_rows(client) == []
    page = client.get("/compliance/").content.decode()
    assert nav_inbox(page) == "Inbox"
    assert ("Assigned to me or my team 0", "/compliance/?kind=assigned") in counts_of(page)
    assert list(LedgerEntry.objects.filter(action__startswith="review.").values_list("action", "actor_name")) == [
        ("review.escalated", "charlie"), ("review.resolved", "erin")]
    entry_page = client.get("/compliance/ledger/entries/2/").content.decode()
    assert '<span class="review review-resolved">resolved</span>' in entry_page
    assert "/resolve/" not in entry_page

    again = client.post(f"/compliance/ledger/entries/{escalation.seq}/resolve/", {"note": "Again"})
    assert messages_of(again) == ["The escalation of entry #2 is already resolved."]


def test_it_mails_the_assignee_when_smtp_is_configured_and_says_nothing_sealed(client, officer, colleague, answers,
                                                                              settings):
    settings.EMAIL_HOST = "smtp.example.org"

    escalate(signed_in(client, officer), 2)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["erin@example.org"]
    assert sent.subject == "Answer escalated to you: ledger entry #2"
    assert sent.body == ("An answer was escalated to you for review: ledger entry #2.\n\n"
                         "Open it in the appliance: /compliance/ledger/entries/2/\n")
    assert "Maria" not in sent.subject + sent.body and "Salary" not in sent.subject + sent.body


def test_it_sends_no_mail_without_smtp(client, officer, colleague, answers):
    escalate(signed_in(client, officer), 2)

    assert mail.outbox == []
    assert LedgerEntry.objects.filter(action="review.escalated").count() == 1


@pytest.fixture
def fraud_team(officer, colleague, analyst):
    """Team "Fraud review": officers charlie, erin and frank, and analyst alice."""
    frank = make_person("frank", Role.COMPLIANCE)
    frank.email = "frank@example.org"
    frank.save()
    team = Group.objects.create(name="Fraud review")
    for person in (officer, colleague, frank, analyst):
        person.groups.add(team)
    return team


def test_an_escalation_to_a_team_reaches_each_of_its_officers(client, officer, colleague, fraud_team, answers):
    response = escalate(signed_in(client, officer), 2, assignee="team:Fraud review")

    assert messages_of(response) == ["Entry #2 escalated."]
    escalation = LedgerEntry.objects.get(action="review.escalated")
    assert escalation.details == {"seq": 2, "assignee_team": "Fraud review", "officers": ["erin", "frank"]}
    assert inbox_rows(client) == []  # the officer who escalated is in the team, but it is not for them
    frank = fraud_team.user_set.get(username="frank")
    for person in (colleague, frank):
        signed_in(client, person)
        assert inbox_rows(client) == [2]
        page = client.get("/compliance/").content.decode()
        assert nav_inbox(page) == "Inbox (1)"
        assert ("Assigned to me or my team 1", "/compliance/?kind=assigned") in counts_of(page)
    assert "<td>Team: Fraud review</td>" in client.get("/compliance/inbox/").content.decode()
    entry_page = client.get("/compliance/ledger/entries/2/").content.decode()
    assert "Escalated to your team Fraud review by charlie" in entry_page
    assert "to team Fraud review" in entry_page


def test_any_officer_of_the_team_resolves_it_once_for_everyone(client, officer, colleague, fraud_team, answers):
    escalate(signed_in(client, officer), 2, assignee="team:Fraud review")
    escalation = LedgerEntry.objects.get(action="review.escalated")

    own = client.post(f"/compliance/ledger/entries/{escalation.seq}/resolve/", {"note": "Done"})
    assert messages_of(own) == [
        "You escalated this to the team “Fraud review”: another officer of the team resolves it."]
    client.get(own["Location"])  # read, as a browser would
    outsider_officer = make_person("hal", Role.COMPLIANCE)
    other = signed_in(client, outsider_officer).post(f"/compliance/ledger/entries/{escalation.seq}/resolve/",
                                                     {"note": "Done"})
    assert messages_of(other) == [
        "Only an officer of the team “Fraud review” can resolve this escalation: it is assigned to them."]
    client.get(other["Location"])

    frank = fraud_team.user_set.get(username="frank")
    response = signed_in(client, frank).post(f"/compliance/ledger/entries/{escalation.seq}/resolve/",
                                             {"note": "Checked with HR"})

    assert messages_of(response) == ["Escalation of entry #2 resolved."]
    resolved = LedgerEntry.objects.get(action="review.resolved")
    assert (resolved.actor_name, resolved.details) == ("frank", {"seq": 2, "escalation": escalation.seq})
    assert inbox_rows(client) == []
    assert inbox_rows(signed_in(client, colleague)) == []
    assert nav_inbox(client.get("/compliance/").content.decode()) == "Inbox"


def test_a_new_team_member_sees_the_teams_open_escalations(client, officer, colleague, fraud_team, answers):
    escalate(signed_in(client, officer), 2, assignee="team:Fraud review")
    newcomer = make_person("ivy", Role.COMPLIANCE)

    assert inbox_rows(signed_in(client, newcomer)) == []
    newcomer.groups.add(fraud_team)
    assert inbox_rows(client) == [2]


def test_a_team_escalation_mails_each_officer_and_says_nothing_sealed(client, officer, colleague, fraud_team,
                                                                        answers, settings):
    settings.EMAIL_HOST = "smtp.example.org"

    escalate(signed_in(client, officer), 2, assignee="team:Fraud review")

    assert [sent.to for sent in mail.outbox] == [["erin@example.org"], ["frank@example.org"]]
    sent = mail.outbox[0]
    assert sent.subject == "Answer escalated to your team: ledger entry #2"
    assert sent.body == ("An answer was escalated to your team for review: ledger entry #2.\n\n"
                         "Open it in the appliance: /compliance/ledger/entries/2/\n")


def review_buttons(page: str) -> list[str]:
    form = re.search(r'<div class="review-buttons">(.*?)</div>', page, re.S).group(1)
    return [text.strip() for text in re.findall(r"<button[^>]*>([^<]*)</button>", form)]


def test_a_second_mark_reviewed_is_a_visible_choice_not_a_silent_duplicate(client, officer, colleague, answers):
    page = signed_in(client, officer).get("/compliance/ledger/entries/2/").content.decode()
    assert review_buttons(page) == ["Mark reviewed", "Annotate", "Escalate"]
    client.post("/compliance/ledger/entries/2/review/", {"decision": "reviewed"})

    signed_in(client, colleague)
    page = client.get("/compliance/ledger/entries/2/").content.decode()
    assert ('<p class="decided" id="decided">Reviewed by charlie on '
            '<span class="nowrap">2026-06-15 12:00 UTC</span>.</p>') in page
    assert review_buttons(page) == ["Review again", "Annotate", "Escalate"]
    queue_row = re.search(r'<tr data-seq="2"[^>]*>(.*?)</tr>', client.get("/compliance/").content.decode(), re.S)
    assert ('<span class="decider">by charlie on <span class="nowrap">2026-06-15 12:00</span></span>'
            in queue_row.group(1))

    # erin had the page open from before charlie's review: her "Mark reviewed" says so instead
    stale = client.post("/compliance/ledger/entries/2/review/", {"decision": "reviewed", "note": "Fine"})
    assert stale.status_code == 400
    assert field_errors(stale) == {"decision": "Entry #2 was already marked reviewed by charlie on 2026-06-15 12:00 "
                                               "UTC. To add your own review, press “Review again”."}
    assert ">Fine</textarea>" in stale.content.decode()
    assert LedgerEntry.objects.filter(action="review.reviewed").count() == 1

    again = client.post("/compliance/ledger/entries/2/review/", {"decision": "reviewed", "again": "1"})
    assert again.status_code == 302
    assert list(LedgerEntry.objects.filter(action="review.reviewed").values_list("actor_name", flat=True)) == [
        "charlie", "erin"]


@pytest.mark.parametrize("person", ["analyst", "admin", "outsider"])
def test_the_inbox_is_for_officers_only(client, request, person):
    signed_in(client, request.getfixturevalue(person))

    assert client.get("/compliance/inbox/").status_code == 403
    assert client.post("/compliance/ledger/entries/1/resolve/", {"note": "x"}).status_code == 403


def test_from_the_inbox_an_entry_leads_back_to_it_and_closing_moves_to_the_next_escalation(
        client, officer, colleague, answers, analyst):
    record_answer("t-third", analyst, "Who signs off overtime?", outcome="quoted")  # #3
    escalate(signed_in(client, officer), 2)
    escalate(client, 3)
    erin = signed_in(client, colleague)
    assert inbox_rows(erin) == [3, 2]

    page = erin.get("/compliance/ledger/entries/3/?from=inbox").content.decode()
    assert '<a href="/compliance/inbox/" id="back-to-inbox">← Inbox</a>' in page
    assert '<input type="hidden" name="from" value="inbox">' in page
    closing = re.search(r'action="/compliance/ledger/entries/(\d+)/resolve/"', page).group(1)

    response = erin.post(f"/compliance/ledger/entries/{closing}/resolve/", {"note": "Fine", "from": "inbox"})
    assert response["Location"] == "/compliance/ledger/entries/2/?from=inbox"
    assert messages_of(response) == ["Escalation of entry #3 resolved. Next in your inbox: entry #2."]
    page = erin.get(response["Location"]).content.decode()
    assert 'id="back-to-inbox"' in page
    closing = re.search(r'action="/compliance/ledger/entries/(\d+)/resolve/"', page).group(1)

    response = erin.post(f"/compliance/ledger/entries/{closing}/resolve/", {"note": "Fine too", "from": "inbox"})
    assert response["Location"] == "/compliance/inbox/"
    assert messages_of(response) == ["Escalation of entry #2 resolved. Nothing else is escalated to you."]


def test_an_entry_opened_from_the_ledger_has_no_inbox_link(client, officer, colleague, answers):
    escalate(signed_in(client, officer), 2)

    page = signed_in(client, colleague).get("/compliance/ledger/entries/2/").content.decode()

    assert 'id="back-to-inbox"' not in page and 'name="from"' not in page
