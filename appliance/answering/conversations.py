"""Questions asked in the browser: queued by the web tier, answered by the worker, polled by the page.

The web process never loads a model or opens the store; it records the question and queues its id.
The worker claims the exchange with a conditional UPDATE (a redelivered task finds it claimed and
does nothing), runs the answer path, and writes the answer into the row as it streams (as far as
the output rails have checked it: see pipeline.CheckedStream), so the page can show it growing.
"""
from django.db import transaction

from appliance.answering.pipeline import ANSWERED, Answer, Progress, answer_question, granted_collections, source_of
from appliance.answering.models import Conversation, Exchange
from appliance.errors import ApplianceError, QuestionInvalid
from guardrails.policy import MAX_QUESTION_CHARS_LIMIT
from guardrails.publishing import current_policy
from guardrails.sensitivity import max_sensitivity

def ask_in_conversation(user, question: str, collections: list[str], conversation: Conversation | None = None) -> Exchange:
    """Record the question and queue it for the worker. Raises QuestionInvalid (empty or beyond any
    policy's length) and CollectionNotGranted before anything is stored."""
    if not question.strip():
        raise QuestionInvalid("The question is empty.")
    if len(question) > MAX_QUESTION_CHARS_LIMIT:
        raise QuestionInvalid(f"The question is longer than {MAX_QUESTION_CHARS_LIMIT} characters.")
    granted_collections(user, collections or None)  # raises for a collection not granted
    with transaction.atomic():
        if conversation is None:
            conversation = Conversation.objects.create(user=user)
        exchange = Exchange.objects.create(conversation=conversation, question=question, collections=collections)
        transaction.on_commit(lambda: queue_exchange(exchange.pk))
    return exchange


def queue_exchange(exchange_id: int) -> None:
    from appliance.answering.tasks import answer_exchange

    answer_exchange.delay(exchange_id)


def run_exchange(exchange_id: int, parts) -> bool:
    """Answer one queued exchange; returns False when there was nothing to do (claimed already)."""
    claimed = Exchange.objects.filter(pk=exchange_id, status=Exchange.Status.QUEUED).update(status=Exchange.Status.ANSWERING)
    if not claimed:
        return False
    exchange = Exchange.objects.select_related("conversation__user").get(pk=exchange_id)
    conversation = exchange.conversation
    progress = ExchangeProgress(exchange, parts.scanner)
    try:
        answer = answer_question(
            conversation.user, exchange.question, parts, collections=exchange.collections or None,
            conversation_sensitivity=conversation.sensitivity, progress=progress,
            history=questions_sent_out(exchange),
        )
    except ApplianceError as error:  # a collection un-granted since the question was asked, say
        Exchange.objects.filter(pk=exchange_id).update(status=Exchange.Status.FAILED,
                                                       sealed_answer=exchange.seal("answer", error.message))
        return True
    except Exception:
        # The page must not wait for ever; the error itself goes up to Celery's log.
        Exchange.objects.filter(pk=exchange_id).update(status=Exchange.Status.FAILED, sealed_answer=exchange.seal(
            "answer", "Answering failed inside the appliance; an administrator can see why in the worker log."))
        raise
    save_answer(exchange, answer, progress.entities_in(answer.passages))
    return True


def questions_sent_out(exchange: Exchange) -> list[str]:
    """The conversation's earlier questions that an external model answered, oldest first: what
    the outside has seen of it. The egress gate reads them with the next question, so personal
    data split across turns is whole again."""
    earlier = Exchange.objects.filter(conversation_id=exchange.conversation_id, pk__lt=exchange.pk,
                                      route__perimeter="external")
    return [earlier_exchange.question for earlier_exchange in earlier.order_by("pk")]


class ExchangeProgress(Progress):
    """Progress written into the exchange's row, which the page polls. The answer and the quotes are
    sealed as they are written."""

    def __init__(self, exchange: Exchange, scanner=None):
        self.exchange = exchange
        self.rows = Exchange.objects.filter(pk=exchange.pk)
        self.scanner = scanner
        self.entities: dict[str, list] = {}

    def stage(self, name: str) -> None:
        self.rows.update(stage=name)

    def evidence(self, evidence, passages) -> None:
        self.rows.update(sealed_evidence=self.exchange.seal("evidence", evidence_rows(evidence, passages)),
                         sources=source_rows(passages), passage_entities=self.entities_in(passages))

    def text(self, text: str) -> None:
        self.rows.update(sealed_answer=self.exchange.seal("answer", text))

    def entities_in(self, passages) -> dict[str, list]:
        """{chunk_id: [[start, end, entity type], ...]}: where the PII scanner finds personal data in
        each passage (the policy's minimum score), so the passage panel can mask it without loading
        a model in the web tier. Each passage is scanned once per exchange."""
        new = {passage.chunk_id: passage.text for passage in passages if passage.chunk_id not in self.entities}
        if new and self.scanner is not None:
            policy = current_policy()
            found = self.scanner.scan(list(new.values()), score_threshold=policy.pii_min_score)
            for chunk_id, findings in zip(new, found):
                self.entities[chunk_id] = [[f.start, f.end, f.entity_type] for f in findings]
        return {passage.chunk_id: self.entities[passage.chunk_id] for passage in passages
                if passage.chunk_id in self.entities}


def source_rows(passages) -> list[dict]:
    return [{"n": p.number, "chunk_id": p.chunk_id, "document": p.document, "page": p.page, "section": p.section}
            for p in passages]


def evidence_rows(evidence, passages) -> list[dict]:
    by_number = {passage.number: passage for passage in passages}
    return [quote.as_dict() | source_of(by_number[quote.passage]) for quote in evidence.quotes]


def save_answer(exchange: Exchange, answer: Answer, passage_entities: dict | None = None) -> None:
    """The final state of the exchange, and the conversation's taint raised to the route's sensitivity.
    A blocked question is dropped here: the exchange keeps why (its flags), not what was asked."""
    blocked = answer.outcome == Exchange.Outcome.BLOCKED
    with transaction.atomic():
        Exchange.objects.filter(pk=exchange.pk).update(
            status=answer.action if answer.action != ANSWERED else Exchange.Status.ANSWERED,
            outcome=answer.outcome,
            stage="",
            sealed_answer=exchange.seal("answer", answer.text),
            route=answer.route.as_dict() if answer.route else None,
            sources=source_rows(answer.passages),
            sealed_evidence=exchange.seal("evidence", answer.as_dict()["evidence"]),
            cited=list(answer.cited),
            flags=answer.flags,
            trace_id=answer.trace_id,
            passage_entities=passage_entities or {},
            **({"sealed_question": None} if blocked else {}),
        )
        if answer.route is not None:
            conversation = Conversation.objects.select_for_update().get(pk=exchange.conversation_id)
            taint = max_sensitivity(conversation.sensitivity, answer.route.sensitivity)
            if taint != conversation.sensitivity:
                Conversation.objects.filter(pk=conversation.pk).update(sensitivity=taint)


ERASED_ANSWER = "This answer quoted a document that has since been erased."


def forget_erased_document(filename: str, chunk_ids: set[str]) -> int:
    """An erased document's words leave the exchanges that showed them: its quotes, an answer that
    cites them (a quoted answer is made of them; a model's answer was written from them) and where
    personal data sat in its passages. The sources keep the document's name and section, as the
    ledger's erasure event does. Returns how many exchanges changed. Called by ingest.erasure."""
    changed = 0
    # Sources are plain: only exchanges that retrieved the document are opened.
    for exchange in Exchange.objects.only("id", "uid", "sources").iterator():
        erased = {source["n"] for source in exchange.sources
                  if source.get("document") == filename and source.get("chunk_id") in chunk_ids}
        if not erased:
            continue
        exchange = Exchange.objects.get(pk=exchange.pk)
        evidence = [quote for quote in exchange.evidence if quote.get("n") not in erased]
        fields = {"sealed_evidence": exchange.seal("evidence", evidence),
                  "passage_entities": {chunk: spans for chunk, spans in exchange.passage_entities.items()
                                       if chunk not in chunk_ids}}
        if erased & set(exchange.cited):
            fields["sealed_answer"] = exchange.seal("answer", ERASED_ANSWER)
            fields["cited"] = [n for n in exchange.cited if n not in erased]
        Exchange.objects.filter(pk=exchange.pk).update(**fields)
        changed += 1
    return changed
