"""Exchanges keep nothing sensitive in the clear: questions, answers and quotes are sealed with the
ledger's field encryption, a blocked question is not kept at all, and exchanges past the ledger's
retention period are deleted with the ledger's payloads."""
import base64
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from appliance.accounts.tokens import issue_api_token
from appliance.answering.conversations import run_exchange
from appliance.answering.models import UNREADABLE, Conversation, Exchange
from appliance.audit.models import LedgerEntry
from guardrails.policy import DEFAULT_RULES
from guardrails.publishing import current_policy_version, publish_policy
from tests.conftest import make_person

# Values no other test stores, so that what a raw read finds can only come from this test.
CARD = "4012 8888 8888 1881"
SSN = "219-09-9999"
IBAN = "GB33 BUKB 2020 1555 5555 55"

BLOCKED_QUESTIONS = [
    (f"Why was the payment from card {CARD} declined?", CARD, "it contains a payment card number"),
    (f"Her social security number is {SSN}; is she on the payroll?", SSN, "it contains a US social security number"),
    (f"Was the refund paid into IBAN {IBAN}?", IBAN, "it contains a bank account number (IBAN)"),
]


def block_ibans() -> None:
    """The shipped policy only keeps a question with an IBAN inside the perimeter; this one blocks it."""
    current_policy_version()
    publish_policy({**DEFAULT_RULES, "entity_actions": {**DEFAULT_RULES["entity_actions"], "IBAN_CODE": "block"}},
                   "Block IBANs")


def traces_of(value: str) -> list[str]:
    """Where VALUE (as typed, or its characters without spaces and dashes) occurs in any row of any
    table, read with plain SQL, and in the bytes of the database files on disk."""
    needles = {value, value.replace(" ", "").replace("-", "")}
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for cell in row:
                    raw = bytes(cell) if isinstance(cell, (bytes, memoryview)) else str(cell).encode()
                    if any(needle.encode() in raw for needle in needles):
                        found.append(f"{table}: {cell!r:.200}")
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        for path in name.parent.glob(name.name + "*"):  # the file, its journal or write-ahead log
            data = path.read_bytes()
            found += [f"{path.name} (raw bytes)" for needle in needles if needle.encode() in data]
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # committed, so that it is in the file on disk
@pytest.mark.parametrize(("question", "value", "reason"), BLOCKED_QUESTIONS)
def test_it_keeps_no_trace_of_a_blocked_questions_personal_data(client, analyst, parts, question, value, reason):
    block_ibans()
    client.force_login(analyst)

    client.post("/analyst/ask/send/", {"question": question})
    exchange = Exchange.objects.get()
    run_exchange(exchange.pk, parts)

    exchange.refresh_from_db()
    assert (exchange.outcome, exchange.sealed_question) == ("blocked", None)
    page = client.get(f"/analyst/conversations/{exchange.conversation_id}/").content.decode()
    assert (f'<p class="question withheld"><span class="who-asked">You</span> Question withheld: {reason}.</p>'
            in page)
    assert LedgerEntry.objects.filter(action="answer.blocked").count() == 1
    assert traces_of(value) == []


@pytest.mark.slow
@pytest.mark.django_db
def test_the_history_api_withholds_a_blocked_question_and_keeps_the_reason(client, analyst, parts):
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)}"}
    exchange_id = client.post("/api/v1/questions", {"question": BLOCKED_QUESTIONS[1][0]},
                              content_type="application/json", **headers).json()["id"]

    run_exchange(exchange_id, parts)

    [conversation] = client.get("/api/v1/history", **headers).json()
    [shown] = conversation["exchanges"]
    assert (shown["question"], shown["outcome"], shown["reasons"]) == (
        "Question withheld: it contains a US social security number.", "blocked",
        ["it contains a US social security number"])
    assert SSN not in str(conversation)


QUOTE = {"n": 1, "text": "Taxi receipts are reimbursed up to 80 euros per trip.", "start": 0, "end": 52,
         "document": "handbook.md", "section": "Expenses", "page": None, "chunk_id": "c1"}


@pytest.mark.django_db
def test_it_seals_questions_answers_and_quotes_and_the_history_api_opens_them(client, analyst):
    conversation = Conversation.objects.create(user=analyst)
    Exchange.objects.create(conversation=conversation, question="How much is a taxi to Zandvoort reimbursed?",
                            answer="Up to 80 euros per trip [1].", evidence=[QUOTE], status="answered",
                            outcome="answered", cited=[1])
    colleague = make_person("erin", "analyst")
    Exchange.objects.create(conversation=Conversation.objects.create(user=colleague), question="Erin's question")

    for secret in ("Zandvoort", "80 euros", "Taxi receipts"):
        assert traces_of(secret) == [], secret
    headers = {"HTTP_AUTHORIZATION": f"Token {issue_api_token(analyst)}"}
    [shown] = client.get("/api/v1/history", **headers).json()
    [exchange] = shown["exchanges"]
    assert (exchange["question"], exchange["answer"]) == (
        "How much is a taxi to Zandvoort reimbursed?", "Up to 80 euros per trip [1].")
    assert exchange["evidence"] == [{key: QUOTE[key] for key in ("n", "chunk_id", "document", "page", "section",
                                                                 "text", "start", "end")}]


@pytest.mark.django_db
def test_a_sealed_question_does_not_open_in_another_exchange(analyst):
    mine = Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question="Mine")
    other = Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question="Other")

    Exchange.objects.filter(pk=other.pk).update(sealed_question=mine.sealed_question)  # a database writer's copy

    other.refresh_from_db()
    assert other.question == UNREADABLE == "This text was sealed with a key the appliance no longer holds."


@pytest.mark.django_db
def test_exchanges_past_the_retention_period_go_with_the_ledgers_payloads(analyst, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(datetime(2026, 1, 1, 9, tzinfo=UTC), tick=False):
        old = Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question="Old question")
    with time_machine.travel(datetime(2026, 1, 25, 9, tzinfo=UTC), tick=False):
        recent = Exchange.objects.create(conversation=old.conversation, question="A follow-up")
        kept = Exchange.objects.create(conversation=Conversation.objects.create(user=analyst), question="Recent")

    with time_machine.travel(datetime(2026, 1, 31, 10, tzinfo=UTC), tick=False):
        out = StringIO()
        call_command("audit", "destroy-expired", stdout=out)

    assert list(Exchange.objects.order_by("pk")) == [recent, kept]
    assert Conversation.objects.count() == 2  # the old conversation still has its follow-up
    event = LedgerEntry.objects.get(action="exchanges.destroyed")
    assert (event.details["exchanges"], event.details["retention_days"], event.details["older_than"]) == (
        1, 30, "2026-01-01T10:00:00Z")
    assert out.getvalue() == "Destroyed 0 sealed payload(s) past the retention period.\n"

    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        call_command("audit", "destroy-expired", stdout=StringIO())
    assert not Exchange.objects.exists() and not Conversation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_exchanges_and_drops_blocked_questions(analyst):
    executor = MigrationExecutor(connection)
    executor.migrate([("answering", "0002_exchange_outcome_evidence")])
    old_apps = executor.loader.project_state([("answering", "0002_exchange_outcome_evidence")]).apps
    OldConversation, OldExchange = (old_apps.get_model("answering", name) for name in ("Conversation", "Exchange"))
    conversation = OldConversation.objects.create(user_id=analyst.pk)
    OldExchange.objects.create(conversation=conversation, question="When does the office open?", status="answered",
                               outcome="answered", answer="At 8:00 [1].", evidence=[QUOTE])
    OldExchange.objects.create(conversation=conversation, question=f"Why was card {CARD} declined?", status="blocked",
                               outcome="blocked", answer="Stopped by policy version 1.",
                               flags=["it contains a payment card number"])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    answered, blocked = Exchange.objects.order_by("pk")
    assert (answered.question, answered.answer, answered.evidence) == ("When does the office open?", "At 8:00 [1].",
                                                                        [QUOTE])
    assert base64.b64decode(answered.sealed_question["ciphertext"])  # ciphertext, not text
    assert (blocked.question, blocked.sealed_question) == (
        "Question withheld: it contains a payment card number.", None)
    assert traces_of(CARD) == [] and traces_of("When does the office open") == []


def test_a_question_is_withheld_with_the_policy_words_even_without_reasons():
    exchange = Exchange(outcome="blocked", flags=[])
    exchange.sealed_question = None

    assert exchange.question == "Question withheld: it breaks the question policy."

