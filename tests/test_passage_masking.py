"""The chat's passage panel masks the personal data the answer check would withhold, unless the
policy lets the analyst's role reveal it; each reveal is a ledger event."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from appliance.answering.conversations import run_exchange
from appliance.answering.models import Exchange
from appliance.audit.models import LedgerEntry
from guardrails.policy import DEFAULT_RULES, Policy, PolicyInvalid
from guardrails.publishing import current_policy, current_policy_version, publish_policy

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

RECORD = """# Employee record

Jan de Vries works in the Finance department. Phone +31 20 555 0142, e-mail jan.devries@example.com.
His salary is paid into IBAN NL91 ABNA 0417 1643 00.
"""


@pytest.fixture
def hr_record(analyst, tmp_path):
    """A restricted record in an internal collection granted to the analysts' team. No model is
    registered, so questions about it are refused: the exchange still records its passages."""
    path = tmp_path / "employee-record.md"
    path.write_text(RECORD)
    call_command("ingest", str(path), collection="HR records", classification="internal", grant=["analysts"],
                 stdout=StringIO())


def ask(client, parts, question="Which department does Jan de Vries work in?") -> Exchange:
    client.post("/analyst/ask/send/", {"question": question, "collection": ["HR records"]})
    exchange = Exchange.objects.latest("pk")
    run_exchange(exchange.pk, parts)
    exchange.refresh_from_db()
    return exchange


MASKED_TEXT = ("Jan de Vries works in the Finance department. Phone •••••••••••••••, e-mail •••••••••••••••••••••••.\n"
               "His salary is paid into IBAN ••••••••••••••••••••••.")
MASKED_NOTICE = ("Personal data in this passage is masked: a phone number, an e-mail address and a bank account number "
                 "(IBAN).")


def passage(client, exchange, **params):
    query = "&".join([f"exchange={exchange.pk}"] + [f"{key}={value}" for key, value in params.items()])
    return client.get(f"/analyst/passages/{exchange.sources[0]['chunk_id']}/?{query}")


def test_it_masks_the_personal_data_in_a_passage_the_analyst_opens(client, analyst, hr_record, parts):
    client.force_login(analyst)
    exchange = ask(client, parts)

    shown = passage(client, exchange).json()

    assert shown == {"document": "employee-record.md", "section": "Employee record", "page": None,
                     "text": MASKED_TEXT, "notice": MASKED_NOTICE, "can_reveal": False}
    page = client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    assert f'data-passage-url="/analyst/passages/CHUNK/?exchange={exchange.pk}"' in page


def test_it_refuses_a_reveal_the_policy_does_not_allow(client, analyst, hr_record, parts):
    client.force_login(analyst)
    exchange = ask(client, parts)

    response = passage(client, exchange, reveal=1)

    assert response.status_code == 403
    assert response.json() == {"error": "The policy does not let your role reveal personal data in this passage.",
                                "code": "reveal_not_allowed"}
    assert not LedgerEntry.objects.filter(action="passage.revealed").exists()


def test_it_reveals_what_the_policy_lets_the_role_see_and_records_the_reveal(client, analyst, hr_record, parts):
    current_policy_version()
    publish_policy({**DEFAULT_RULES, "passage_reveal": {"analyst": ["EMAIL_ADDRESS"]}}, "Analysts may see e-mails")
    client.force_login(analyst)
    exchange = ask(client, parts)

    masked = passage(client, exchange).json()
    revealed = passage(client, exchange, reveal=1).json()

    assert (masked["text"], masked["can_reveal"]) == (MASKED_TEXT, True)
    assert masked["notice"] == (f"{MASKED_NOTICE} Your role may reveal an e-mail address; each reveal is recorded "
                                "in the audit ledger.")
    assert revealed["text"] == MASKED_TEXT.replace("•" * 23, "jan.devries@example.com")
    assert revealed["notice"] == ("Personal data in this passage is masked: a phone number and a bank account number "
                                  "(IBAN). Revealed an e-mail address; this reveal is recorded in the audit ledger.")
    assert revealed["can_reveal"] is False
    event = LedgerEntry.objects.get(action="passage.revealed")
    assert (event.actor_name, event.target_type, event.target_id) == ("alice", "chunk", exchange.sources[0]["chunk_id"])
    assert (event.details["document"], event.details["collection"], event.details["entity_types"]) == (
        "employee-record.md", "HR records", ["EMAIL_ADDRESS"])
    assert "jan.devries" not in str(event.details)


def test_it_does_not_show_a_passage_with_personal_data_it_cannot_mask(client, analyst, hr_record, parts):
    client.force_login(analyst)
    exchange = ask(client, parts)
    chunk_id = exchange.sources[0]["chunk_id"]

    unrecorded = client.get(f"/analyst/passages/{chunk_id}/").json()
    not_theirs = client.get(f"/analyst/passages/{chunk_id}/?exchange={exchange.pk + 1000}").json()

    assert unrecorded == not_theirs == {
        "document": "employee-record.md", "section": "Employee record", "page": None, "text": "",
        "notice": "This passage holds personal data (an e-mail address, a bank account number (IBAN) and a phone "
                  "number) and cannot be shown masked here. Open it from the answer that retrieved it.",
        "can_reveal": False}


def test_the_shipped_policy_lets_no_role_reveal_and_names_a_wrong_role():
    assert Policy.from_rules(DEFAULT_RULES).passage_reveal == {}
    assert Policy.from_rules({**DEFAULT_RULES, "passage_reveal": {"analyst": ["IBAN_CODE"]}}).may_reveal(
        ["analyst"], "IBAN_CODE")
    with pytest.raises(PolicyInvalid) as raised:
        Policy.from_rules({**DEFAULT_RULES, "passage_reveal": {"intern": ["EMAIL_ADDRESS"]}})
    assert raised.value.message == "passage_reveal names 'intern', which is not a role (analyst, admin, compliance)."


def test_an_officer_lets_analysts_reveal_a_type_in_the_policy_editor(client, officer):
    from tests.test_policy_editor import submitted_form

    current_policy_version()
    client.force_login(officer)
    page = client.get("/compliance/policy/").content.decode()
    assert "<th>Analysts may reveal it in a source passage</th>" in page

    response = client.post("/compliance/policy/",
                           submitted_form(client, reveal_EMAIL_ADDRESS="on", publish_unreplayed="1"))

    assert response.status_code == 302
    assert dict(current_policy().passage_reveal) == {"analyst": ("EMAIL_ADDRESS",)}
    shown = client.get("/compliance/policy/versions/2/").content.decode()
    assert ('<p class="passage-reveal">Analysts may reveal e-mail address <span class="muted code">EMAIL_ADDRESS</span> '
            "in a source passage; each reveal is recorded.</p>") in shown
    assert ('<input type="checkbox" name="reveal_EMAIL_ADDRESS" id="id_reveal_EMAIL_ADDRESS" checked>'
            in client.get("/compliance/policy/").content.decode())


# The trial's handbook contact line: the scanner finds the name and the phone numbers, not the
# e-mail address (".example" is no public suffix, so Presidio does not take it for one).
CONTACT = ("For questions about this handbook contact Petra Lindqvist, Head of People Operations, on +44 20 7946 0321 "
           "or petra.lindqvist@northbank.example. The whistleblowing hotline is run by an external provider on "
           "0800 555 0199 and is anonymous.")
CONTACT_SPANS = [[CONTACT.index("Petra"), CONTACT.index("Petra") + 15, "PERSON"],
                 [CONTACT.index("+44"), CONTACT.index("+44") + 16, "PHONE_NUMBER"],
                 [CONTACT.index("0800"), CONTACT.index("0800") + 13, "PHONE_NUMBER"]]
EMAIL = "petra.lindqvist@northbank.example"


def bullets(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "•" * len(value))
    return text


MASKED_CONTACT = bullets(CONTACT, "Petra Lindqvist", "+44 20 7946 0321", EMAIL, "0800 555 0199")


def contact_exchange(analyst, answer: str, outcome="answered") -> Exchange:
    from appliance.answering.models import Conversation

    quote = {"n": 1, "chunk_id": "c1", "document": "staff-handbook.md", "page": None, "section": "Contacts",
             "text": CONTACT, "start": 40, "end": 40 + len(CONTACT)}
    return Exchange.objects.create(
        conversation=Conversation.objects.create(user=analyst), question="Who do I contact with questions?",
        status="answered", outcome=outcome, answer=answer, evidence=[quote], cited=[1],
        sources=[{key: quote[key] for key in ("n", "chunk_id", "document", "page", "section")}],
        passage_entities={"c1": [[start + 40, end + 40, entity] for start, end, entity in CONTACT_SPANS]})


def test_the_answer_masks_a_value_its_quote_masks_on_the_page_its_state_and_the_api(client, analyst):
    from tests.test_answering_api import token_headers

    exchange = contact_exchange(analyst, "The whistleblowing hotline is run by an external provider on 0800 555\n0199 "
                                         "[1]; for the handbook ask Ms Lindqvist or petra.lindqvist@northbank.example.")
    client.force_login(analyst)

    page = client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    state = client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    api = client.get(f"/api/v1/questions/{exchange.pk}", **token_headers(analyst)).json()

    answer = bullets("The whistleblowing hotline is run by an external provider on 0800 555 0199 [1]; for the handbook "
                     "ask Ms Lindqvist or petra.lindqvist@northbank.example.", "0800 555 0199", "Lindqvist", EMAIL)
    assert f'<p class="answer-text">{answer}</p>' in page
    assert state["answer"] == api["answer"] == answer
    assert state["evidence"][0]["text"] == api["evidence"][0]["text"] == MASKED_CONTACT
    for shown in (page, json.dumps(state, ensure_ascii=False), json.dumps(api, ensure_ascii=False)):
        assert "0199" not in shown and "Lindqvist" not in shown and "lindqvist" not in shown


def test_an_answer_masks_only_whole_values_and_nothing_its_quotes_do_not_mask(client, analyst):
    exchange = contact_exchange(analyst, "Annual leave questions go to People Operations [1].")
    client.force_login(analyst)

    assert client.get(f"/analyst/exchanges/{exchange.pk}/").json()["answer"] == exchange.answer


def test_an_email_address_the_scanner_missed_is_masked_wherever_the_policy_withholds_them(client, analyst):
    exchange = contact_exchange(analyst, "Ask People Operations [1].")
    client.force_login(analyst)

    assert client.get(f"/analyst/exchanges/{exchange.pk}/").json()["evidence"][0]["text"] == MASKED_CONTACT
    # A policy that labels e-mail addresses public shows them, as it would a scanned one.
    current_policy_version()
    publish_policy({**DEFAULT_RULES, "entity_labels": {**DEFAULT_RULES["entity_labels"], "EMAIL_ADDRESS": "public"}},
                   "E-mail addresses are public")
    shown = client.get(f"/analyst/exchanges/{exchange.pk}/").json()["evidence"][0]["text"]
    assert "petra.lindqvist@northbank.example" in shown and "Lindqvist," not in shown


def test_the_passage_panel_masks_an_email_address_the_scanner_missed(client, analyst, hr_record, parts):
    from ingest.models import Chunk

    client.force_login(analyst)
    exchange = ask(client, parts)
    chunk = Chunk.objects.get(chunk_id=exchange.sources[0]["chunk_id"])
    Chunk.objects.filter(pk=chunk.pk).update(text=chunk.text + "\nHR: hr.records@northbank.example")
    spans = [span for span in exchange.passage_entities[chunk.chunk_id] if span[2] != "EMAIL_ADDRESS"]
    Exchange.objects.filter(pk=exchange.pk).update(passage_entities={chunk.chunk_id: spans})

    shown = passage(client, exchange).json()

    assert "hr.records@" not in shown["text"] and "jan.devries@" not in shown["text"]
    assert shown["text"].endswith("HR: " + "•" * len("hr.records@northbank.example"))
    assert "an e-mail address" in shown["notice"]


def test_masked_answer_masks_whole_values_and_names_word_by_word_but_no_part_of_a_word():
    from appliance.answering.masking import masked_answer

    values = [("Ann Berg", "PERSON"), ("0800 555 0199", "PHONE_NUMBER")]

    assert masked_answer("Annual leave: ask Ann Berg, or Ms Berg on 0800  555 0199; Bergen office.", values) == (
        "Annual leave: ask ••••••••, or Ms •••• on ••••••••••••••; Bergen office.")
    assert masked_answer("Ask People Operations.", values) == "Ask People Operations."
