"""The analyst's chat pages and endpoints; the worker's part is run by calling the task's function."""
import json

import pytest
from django.utils.html import escape

from appliance.answering.conversations import run_exchange
from appliance.answering.models import Conversation, Exchange
from appliance.audit.models import LedgerEntry
from appliance.web.chat_views import readable, source_label
from guardrails.policy import DEFAULT_RULES
from tests.conftest import make_person

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_an_analyst_asks_and_the_worker_answers(analyst_client, two_team_corpus, parts):
    response = analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?", "collection": ["Handbook"]})

    exchange = Exchange.objects.get()
    assert response["Location"] == f"/analyst/conversations/{exchange.conversation_id}/"
    assert exchange.status == "queued"
    assert run_exchange(exchange.pk, parts) is True
    assert run_exchange(exchange.pk, parts) is False  # a redelivered task finds it claimed
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    assert state["status"] == "answered" and state["answer"] and not state["in_progress"]
    assert state["route"]["perimeter"] == "internal"
    assert [source["document"] for source in state["sources"]] == ["Handbook.md"]
    passage = analyst_client.get(f"/analyst/passages/{state['sources'][0]['chunk_id']}/").json()
    assert passage == {"document": "Handbook.md", "section": "Hours", "page": None,
                       "text": "The office opens at 8:00 on weekdays.", "notice": "", "can_reveal": False}
    page = analyst_client.get(response["Location"]).content.decode()
    assert "When does the office open?" in page and "answered inside the perimeter" in page


def test_a_conversation_that_touched_protected_data_stays_inside(analyst_client, two_team_corpus, parts, analyst):
    analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?", "collection": ["Handbook"]})
    run_exchange(Exchange.objects.get().pk, parts)

    assert Conversation.objects.get().sensitivity == "internal"


def test_it_explains_a_question_it_cannot_take(analyst_client, two_team_corpus):
    empty = analyst_client.post("/analyst/ask/send/", {"question": "   "})
    not_granted = analyst_client.post("/analyst/ask/send/", {"question": "When?", "collection": ["HR cases"]})

    assert empty.status_code == 400 and "The question is empty." in empty.content.decode()
    assert not_granted.status_code == 403
    assert "You have no collection named “HR cases”." in not_granted.content.decode()
    assert not Exchange.objects.exists()


def test_it_shows_nobody_else_an_analysts_answers_or_ungranted_passages(analyst_client, two_team_corpus, parts, client):
    analyst_client.post("/analyst/ask/send/", {"question": "When does the office open?"})
    exchange = Exchange.objects.get()
    run_exchange(exchange.pk, parts)
    colleague = make_person("erin", "analyst", "hr")
    client.force_login(colleague)

    assert client.get(f"/analyst/exchanges/{exchange.pk}/").status_code == 404
    assert client.get(f"/analyst/conversations/{exchange.conversation_id}/").status_code == 404
    handbook_chunk = exchange.__class__.objects.get().sources[0]["chunk_id"]
    assert client.get(f"/analyst/passages/{handbook_chunk}/").status_code == 404


CARD_QUESTION = "Why was the payment from card 4111 1111 1111 1111 declined?"


def test_a_blocked_question_says_why_in_plain_words_and_never_repeats_the_card_number(analyst_client, two_team_corpus, parts):
    analyst_client.post("/analyst/ask/send/", {"question": CARD_QUESTION})
    exchange = Exchange.objects.get()
    run_exchange(exchange.pk, parts)

    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    explanation = ("Stopped by policy version 1 because it contains a payment card number. Ask again without the "
                   "payment card number.\n" + DEFAULT_RULES["refusal_text"])
    assert (state["status_label"], state["answer"], state["flags"]) == (
        "Blocked by the question policy", explanation, ["it contains a payment card number"])
    assert f'<p class="explanation">{escape(explanation)}</p>' in page
    answer_box = page[page.index('<div class="answer kind-'):page.index("</article>")]
    assert "4111" not in answer_box  # the question shows as the analyst typed it; the answer never repeats it
    trace = LedgerEntry.objects.get(target_id=Exchange.objects.get().trace_id)
    scores = {str(f["score"]) for f in trace.details["verdict"]["findings"]}
    shown = json.dumps({key: value for key, value in state.items() if key != "status_label"})
    for hidden in ("4111", "CREDIT_CARD", "score", *scores):
        assert hidden not in shown
    assert "CREDIT_CARD" not in page


@pytest.mark.parametrize("person", ["admin", "officer", "outsider"])
def test_only_analysts_may_ask(client, request, person):
    client.force_login(request.getfixturevalue(person))

    for method, url in [("get", "/analyst/ask/"), ("post", "/analyst/ask/send/"), ("get", "/analyst/exchanges/1/"),
                        ("get", "/analyst/passages/abc/"), ("get", "/analyst/conversations/1/")]:
        assert getattr(client, method)(url).status_code == 403, url
    assert not Exchange.objects.exists()


@pytest.mark.parametrize(("document", "section", "page", "label"), [
    ("expenses.md", "Expenses", None, "expenses.md · Expenses"),
    ("employee-handbook.docx",
     "Kestrel Ridge Software B.V. – Employee Handbook > 2. Working hours and the office > 2.2 Office opening hours",
     None,
     "employee-handbook.docx · 2. Working hours and the office › 2.2 Office opening hours"),
    ("expenses.md", "Expenses > Taxis", 4, "expenses.md · Taxis · p. 4"),
    ("policy.pdf", "Annex A > Taxis", 12, "policy.pdf · Annex A › Taxis · p. 12"),
    ("handbook.md", "Handbook", None, "handbook.md · Handbook"),
    ("scan.pdf", "", 3, "scan.pdf · p. 3"),
    ("notes.txt", "", None, "notes.txt"),
])
def test_it_labels_a_passage_without_repeating_the_documents_title(document, section, page, label):
    assert source_label(document, section, page) == label


def finished_exchange(analyst, **fields) -> Exchange:
    conversation = Conversation.objects.create(user=analyst)
    names = ["Expenses", "Leave", "Travel", "Hours"]
    sources = [{"n": n, "chunk_id": f"c{n}", "document": "handbook.md", "page": None, "section": f"Handbook > {name}"}
               for n, name in enumerate(names, start=1)]
    return Exchange.objects.create(conversation=conversation, question="Up to how much is a taxi reimbursed?",
                                   sources=sources, **fields)


QUOTE = {"n": 1, "text": "Taxi receipts are reimbursed up to 80 euros\nper trip.", "start": 0, "end": 52,
         "document": "handbook.md", "section": "Handbook > Expenses", "page": None, "chunk_id": "c1"}


def test_it_sends_the_page_labels_for_quotes_and_sources(analyst_client, analyst):
    exchange = finished_exchange(
        analyst, status="answered", outcome="answered", answer="Up to 80 euros per trip [1].", evidence=[QUOTE],
        cited=[1], route={"reason": "Answered inside the perimeter.", "model": "m", "perimeter": "internal",
                          "sensitivity": "internal"},
    )

    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()

    assert state["status_label"] == "Answered from the documents"
    assert [source["label"] for source in state["sources"]] == [
        "handbook.md · Expenses", "handbook.md · Leave", "handbook.md · Travel", "handbook.md · Hours"]
    assert state["evidence"] == [QUOTE | {"label": "handbook.md · Expenses",
                                          "shown": "Taxi receipts are reimbursed up to 80 euros per trip."}]
    assert state["cited"] == [1] and state["flags"] == [] and not state["in_progress"]


def test_it_names_the_stage_while_the_answer_is_on_its_way(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answering", stage="writing", evidence=[QUOTE])
    queued = finished_exchange(analyst)

    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    waiting = analyst_client.get(f"/analyst/exchanges/{queued.pk}/").json()
    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert state["in_progress"] and state["status_label"] == "Found the passages; writing a short answer from them…"
    assert waiting["status_label"] == "Waiting for the worker…"
    assert "Found the passages; writing a short answer from them…" in page
    assert "“Taxi receipts are reimbursed up to 80 euros per trip.”" in page


def test_it_shows_an_answer_with_its_quotes_and_only_the_cited_sources(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answered", outcome="answered",
                                 answer="Up to 80 euros per trip [1].", evidence=[QUOTE], cited=[1])

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert "Answered from the documents" in page and "Up to 80 euros per trip [1]." in page
    assert "From the documents:" in page
    assert "“Taxi receipts are reimbursed up to 80 euros per trip.”" in page
    assert "<footer>[1] handbook.md · Expenses</footer>" in page
    assert ">[1] handbook.md · Expenses</button>" in page
    assert "Also retrieved (3)" in page and ">[4] handbook.md · Hours</button>" in page
    assert "Handbook &gt;" not in page


def test_it_shows_quotes_and_why_no_short_answer_was_shown(analyst_client, analyst):
    exchange = finished_exchange(
        analyst, status="answered", outcome="quoted", evidence=[QUOTE], cited=[1],
        answer="The documents say:\n“Taxi receipts are reimbursed up to 80 euros per trip.” [1]",
        flags=["The model's answer cites no quote."],
    )

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert "Quoted from the documents" in page
    assert page.count("The sentences that best match your question, quoted as written. No answer was written from "
                      "them: check that they answer it.") == 1
    assert page.count("Taxi receipts are reimbursed up to 80 euros") == 1
    assert ('<details class="note"><summary>Why no written answer?</summary>The model\'s own wording was held back. '
            "The model&#x27;s answer cites no quote.</details>") in page


def test_it_offers_the_closest_passages_when_the_documents_nearly_answer(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answered", outcome="not_found", evidence=[QUOTE],
                                 answer="The documents may not answer this.")

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert "Possibly related:" in page
    assert ">[1] handbook.md · Expenses</button>" in page and ">[3] handbook.md · Travel</button>" in page
    assert "Also retrieved (1)" in page


def test_it_offers_no_related_passages_when_the_documents_are_far_off(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answered", outcome="not_found",
                                 answer="The documents don't answer this.")

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert "Not in the documents" in page and "The documents don&#x27;t answer this." in page
    assert "Possibly related:" not in page
    assert "Also retrieved (4)" in page


def test_a_near_miss_says_it_is_not_confirmed_rather_than_not_in_the_documents(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answered", outcome="not_found", evidence=[QUOTE],
                                 answer="The documents may not answer this.")

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()

    assert state["status_label"] == "Not confirmed: read the closest quotes"
    assert '<span class="status-text">Not confirmed: read the closest quotes</span>' in page
    assert ("The closest the documents come; the appliance could not confirm that they answer your question:"
            in page)
    assert "“Taxi receipts are reimbursed up to 80 euros per trip.”" in page


def test_it_says_a_sensitive_question_stayed_inside_even_when_no_model_ran(analyst_client, analyst):
    route = {"reason": "The question contains personal data: answered inside the perimeter by m.",
             "model": "m", "perimeter": "internal", "sensitivity": "restricted"}
    exchange = finished_exchange(analyst, status="answered", outcome="not_found",
                                 answer="The documents don't answer this.", route=route)
    public = finished_exchange(analyst, status="answered", outcome="not_found",
                               answer="The documents don't answer this.", route=route | {"sensitivity": "public"})

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    public_state = analyst_client.get(f"/analyst/exchanges/{public.pk}/").json()

    line = "No model ran: nothing was sent outside the perimeter."
    assert line in page and state["route_line"] == line
    assert "answered inside the perimeter by m" not in page
    assert public_state["route_line"] == ""


def test_it_shows_markdown_list_items_in_a_quote_as_bullets(analyst_client, analyst):
    quote = QUOTE | {"text": "Bring:\n- the **signed** receipt;\n* the declaration.\n2. Submit it."}
    exchange = finished_exchange(analyst, status="answered", outcome="quoted", evidence=[quote], cited=[1],
                                 answer="The documents say: …")

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()

    assert "“Bring: • the signed receipt; • the declaration. 2. Submit it.”" in page
    assert state["evidence"][0]["shown"] == "Bring: • the signed receipt; • the declaration. 2. Submit it."
    assert state["evidence"][0]["text"] == quote["text"]


def test_it_masks_in_a_quote_the_personal_data_the_passage_panel_masks(analyst_client, analyst):
    text = "For taxis call the desk on +31 20 555 0142 before 18:00."
    phone = text.index("+31")
    quote = QUOTE | {"text": text, "start": 100, "end": 100 + len(text)}
    exchange = finished_exchange(analyst, status="answered", outcome="quoted", evidence=[quote], cited=[1],
                                 answer="The documents say: …",
                                 passage_entities={"c1": [[100 + phone, 100 + phone + 15, "PHONE_NUMBER"]]})

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()

    assert "“For taxis call the desk on ••••••••••••••• before 18:00.”" in page and "555 0142" not in page
    assert state["evidence"][0]["shown"] == "For taxis call the desk on ••••••••••••••• before 18:00."
    assert "555 0142" not in json.dumps(state)


def test_it_shows_a_refusal_as_an_explanation_said_once(analyst_client, analyst):
    reason = "No model allowed for restricted data is available; ask your administrator."
    route = {"reason": reason, "model": None, "perimeter": "none", "sensitivity": "restricted"}
    exchange = finished_exchange(analyst, status="refused", outcome="refused", answer=reason, route=route)

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()

    assert f'<p class="explanation">{reason}</p>' in page and page.count(reason) == 1
    assert "Sources:" not in page and "Possibly related:" not in page


def test_a_follow_up_asks_the_same_collections_unless_told_otherwise(analyst_client, analyst):
    exchange = finished_exchange(analyst, status="answered", outcome="not_found",
                                 answer="The documents don't answer this.", collections=["Handbook"])

    page = analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/")

    assert page.context["chosen"] == ["Handbook"]
    assert analyst_client.get(f"/analyst/conversations/{exchange.conversation_id}/?collection=Other").context[
        "chosen"] == ["Other"]


EXFILTRATION = "Can I send the customer list to john.smith1987@gmail.com, card 4111 1111 1111 1111?"


def test_a_blocked_question_is_explained_as_what_it_is_and_its_personal_data_masked_for_the_officer(
        analyst_client, two_team_corpus, parts, client, officer):
    analyst_client.post("/analyst/ask/send/", {"question": EXFILTRATION})
    exchange = Exchange.objects.get()
    run_exchange(exchange.pk, parts)

    state = analyst_client.get(f"/analyst/exchanges/{exchange.pk}/").json()
    assert state["answer"] == (
        "Stopped by policy version 1 because it asks to send data outside, to an e-mail address or a web address "
        "and it contains a payment card number. Ask again without the payment card number. The assistant sends "
        "nothing anywhere: ask only about what the documents say.\n" + DEFAULT_RULES["refusal_text"])
    client.force_login(officer)
    trace = LedgerEntry.objects.get(target_id=Exchange.objects.get().trace_id)
    masked = "Can I send the customer list to [e-mail address], card [payment card number]?"
    for page in (client.get("/compliance/ledger/?kind=answers").content.decode(),
                 client.get(f"/compliance/ledger/entries/{trace.seq}/").content.decode()):
        assert escape(masked) in page
        assert "john.smith1987" not in page and "4111" not in page


def test_a_table_quote_reads_one_row_per_line_without_the_rule_under_its_header():
    quote = ("| Role | Weekdays | Sundays |\n|---|:---:|---|\n| Sales assistant | £12.60 | £14.20 |\n"
             "| Plant care  assistant | £12.90 | £14.50 |")

    assert readable(quote) == ("Role | Weekdays | Sundays\nSales assistant | £12.60 | £14.20\n"
                               "Plant care assistant | £12.90 | £14.50")
    assert readable("- A bullet\n  wrapped | with a pipe") == "• A bullet wrapped | with a pipe"
