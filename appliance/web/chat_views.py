"""The analyst's chat: ask about granted collections, watch the answer arrive, open its sources."""
import math
import re
from pathlib import PurePath

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.accounts.decorators import permission_required
from appliance.accounts.roles import roles_of
from appliance.answering.conversations import ask_in_conversation
from appliance.answering.masking import (REVEAL_REFUSED, ShownPassage, masked_exchange_answer, masked_passage,
                                         masked_quotes)
from appliance.answering.models import Conversation, Exchange
from appliance.answering.rate_limits import AskRateThrottle
from appliance.audit.recording import record_event
from appliance.errors import ApplianceError
from guardrails.publishing import current_policy
from ingest.models import Chunk, Collection

ask_questions = permission_required("ask_questions")
RELATED_SHOWN = 3  # a not-found answer offers the closest passages as possibly related
ASKED_TOO_OFTEN = ("You have asked many questions in a short time. Your question is still in the box: "
                   "ask it again in {seconds} seconds.")
NEAR_MISS_LABEL = "Not confirmed: read the closest quotes"


@ask_questions
def chat(request, conversation_id=None):
    conversation = None
    if conversation_id is not None:
        conversation = get_object_or_404(Conversation, pk=conversation_id, user=request.user)
    chosen = request.GET.getlist("collection")
    if not chosen and conversation is not None and conversation.exchanges.exists():
        chosen = conversation.exchanges.last().collections  # a follow-up asks the same collections
    return render(request, "web/chat.html", chat_context(request, conversation, chosen))


def chat_context(request, conversation, chosen, **extra) -> dict:
    """What the chat page shows: the conversation, the analyst's history, their collections."""
    return {
        "conversation": conversation,
        "exchanges": [presented(exchange) for exchange in conversation.exchanges.all()] if conversation else [],
        "conversations": Conversation.objects.filter(user=request.user).prefetch_related("exchanges")[:20],
        "collections": Collection.granted_to(request.user).order_by("name"),
        "chosen": chosen,
        **extra,
    }


@ask_questions
@require_POST
def ask(request):
    conversation = None
    if request.POST.get("conversation"):
        conversation = get_object_or_404(Conversation, pk=request.POST["conversation"], user=request.user)
    collections = request.POST.getlist("collection")
    throttle = AskRateThrottle()
    if not throttle.allow_request(request, None):
        # The same count as the API's: one person's questions, however they are asked.
        wait = math.ceil(throttle.wait() or 1)
        context = chat_context(request, conversation, collections, question=request.POST.get("question", ""),
                               error=ASKED_TOO_OFTEN.format(seconds=wait))
        response = render(request, "web/chat.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        exchange = ask_in_conversation(request.user, request.POST.get("question", ""), collections, conversation)
    except ApplianceError as error:
        context = chat_context(request, conversation, collections, error=error.message,
                               question=request.POST.get("question", ""))
        return render(request, "web/chat.html", context, status=error.status)
    return redirect("conversation", exchange.conversation_id)


@ask_questions
@require_GET
def exchange_state(request, exchange_id):
    """Polled by the page while an answer is on its way."""
    exchange = get_object_or_404(Exchange, pk=exchange_id, conversation__user=request.user)
    return JsonResponse({
        "status": exchange.status, "status_label": status_label(exchange), "outcome": exchange.outcome,
        "stage": exchange.stage, "answer": shown_answer(exchange), "route": exchange.route,
        "sources": labelled(exchange.sources), "evidence": shown_quotes(exchange), "cited": exchange.cited,
        "flags": exchange.flags, "in_progress": exchange.is_in_progress,
        "route_line": route_line(exchange, presentation_kind(exchange)),
    })


def status_label(exchange: Exchange) -> str:
    """In plain words: the stage while the answer is on its way, then its outcome."""
    if exchange.is_in_progress:
        if exchange.stage:
            return exchange.get_stage_display()
        # Claimed by the worker, which screens first, but not yet marked with a stage.
        if exchange.status == Exchange.Status.ANSWERING:
            return Exchange.Stage.SCREENING.label
        return "Waiting for the worker…"
    if exchange.outcome == Exchange.Outcome.NOT_FOUND and exchange.evidence:
        # A near miss: the closest sentences are quoted. "Not in the documents" above a quote that
        # may well answer read as a wrong refusal to new users; the appliance only could not confirm it.
        return NEAR_MISS_LABEL
    return exchange.get_outcome_display() if exchange.outcome else exchange.get_status_display()


def presented(exchange: Exchange) -> dict:
    """One exchange as the page shows it: quotes and passages labelled; the passages the answer rests
    on (or, when the documents don't answer, the closest ones) apart from the rest."""
    evidence = shown_quotes(exchange)
    spans = {}
    for quote in evidence:
        spans.setdefault(quote["n"], []).append(f"{quote['start']}-{quote['end']}")
    sources = [source | {"spans": ";".join(spans.get(source["n"], []))} for source in labelled(exchange.sources)]
    kind = presentation_kind(exchange)
    if kind in ("progress", "notice"):
        shown, rest = [], []
    elif kind == Exchange.Outcome.NOT_FOUND and exchange.evidence:
        shown, rest = sources[:RELATED_SHOWN], sources[RELATED_SHOWN:]
    elif kind == Exchange.Outcome.NOT_FOUND:
        # Far off (a football question in a staff handbook): three handbook sections offered as
        # "possibly related" are noise; they stay under "Also retrieved".
        shown, rest = [], sources
    else:
        shown = [source for source in sources if source["n"] in exchange.cited]
        rest = [source for source in sources if source["n"] not in exchange.cited]
    return {
        "exchange": exchange, "answer": shown_answer(exchange), "kind": kind, "status_label": status_label(exchange), "evidence": evidence,
        "shown_sources": shown, "other_sources": rest, "route_reason": route_line(exchange, kind),
    }


def route_line(exchange: Exchange, kind: str) -> str:
    """The line under an answer that says where it was made. A refusal's explanation is the routing
    reason itself: it is said once. When the documents don't answer, no model ran, and which model
    would have is noise; but an analyst who asked about data that must stay inside is told it did (the
    level is not named: it may come from the collection, not the question, and would read as an
    accusation)."""
    route = exchange.route or {}
    if route.get("reason") == exchange.answer:
        return ""
    if kind == Exchange.Outcome.NOT_FOUND:
        return "" if route.get("sensitivity", "public") == "public" else (
            "No model ran: nothing was sent outside the perimeter.")
    return route.get("reason", "")


def shown_quotes(exchange: Exchange) -> list[dict]:
    """The exchange's quotes, each with its passage's label and, as `shown`, its words as the page
    reads them, with the personal data the passage panel masks masked here too (a quote is part of
    a passage: it must not show what opening the passage would withhold)."""
    quotes = masked_quotes(exchange, current_policy()) if exchange.evidence else []
    return [quote | {"shown": readable(quote["text"])} for quote in labelled(quotes)]


def shown_answer(exchange: Exchange) -> str:
    """The exchange's answer with each value its quotes mask masked wherever it repeats one."""
    return masked_exchange_answer(exchange, current_policy()) if exchange.evidence else exchange.answer


LIST_MARKER = re.compile(r"^[ \t]*[-*+][ \t]+", re.MULTILINE)
STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


TABLE_ROW = re.compile(r"^[ \t]*\|(.*?)\|?[ \t]*$")
TABLE_RULE = re.compile(r"^[\s|:-]*-[\s|:-]*$")  # "|---|:---:|", under a Markdown table's header


def readable(quote: str) -> str:
    """A verbatim quote as it reads on the page: one line, Markdown bullets ("- ", "* ") shown as "•"
    and bold markers dropped; numbered steps keep their numbers. A table (its header and a row, see
    evidence.quote_span) keeps one line per row, cells between " | ", without the rule under the
    header (the page shows the quote's line breaks). The stored quote and its offsets stay verbatim:
    only its display changes."""
    quote = STRONG.sub(r"\2", LIST_MARKER.sub("• ", quote.strip()))
    rows = quote.splitlines()
    if len(rows) > 1 and all(TABLE_ROW.match(row) for row in rows):
        cells = [[" ".join(cell.split()) for cell in TABLE_ROW.match(row).group(1).split("|")]
                 for row in rows if not TABLE_RULE.match(row)]
        return "\n".join(" | ".join(row) for row in cells)
    return " ".join(quote.split())


def presentation_kind(exchange: Exchange) -> str:
    """"progress" while on its way; "answered", "quoted" or "not_found"; else "notice": refused,
    blocked or failed, whose text explains why there is no answer."""
    if exchange.is_in_progress:
        return "progress"
    if exchange.outcome in (Exchange.Outcome.ANSWERED, Exchange.Outcome.QUOTED, Exchange.Outcome.NOT_FOUND):
        return exchange.outcome
    return "notice"


def labelled(items: list[dict]) -> list[dict]:
    """Sources or quotes, each with the `label` the page shows for its passage."""
    return [item | {"label": source_label(item["document"], item.get("section") or "", item.get("page"))}
            for item in items]


def source_label(document: str, section: str, page: int | None) -> str:
    """How the page names a passage: "handbook.docx · 2. Working hours › 2.2 Office opening hours · p. 4".
    A section path's root is dropped when it repeats the document's title (it shares a word with the
    file's name) and something is left under it."""
    parts = [part.strip() for part in section.split(" > ") if part.strip()]
    if len(parts) > 1 and is_title_of(parts[0], document):
        parts = parts[1:]
    page_label = f"p. {page}" if page is not None else ""
    return " · ".join(part for part in (document, " › ".join(parts), page_label) if part)


def is_title_of(heading: str, filename: str) -> bool:
    """Whether HEADING shares a word of four letters or more with FILENAME's name."""
    def words(text):
        return set(re.findall(r"[^\W\d_]{4,}", text.casefold()))
    return bool(words(heading) & words(PurePath(filename).stem))


@ask_questions
@require_GET
def source_passage(request, chunk_id):
    """The text of one passage, if its collection is granted to one of the analyst's teams now, with
    the personal data the answer check would withhold masked. `?exchange=N` names the analyst's
    exchange that retrieved it (where the worker recorded the personal data in it); `&reveal=1`
    reveals what the policy lets the analyst's role see, and records that in the ledger."""
    # The same text in two documents has the same chunk id; either copy is the passage.
    chunk = Chunk.objects.select_related("document__collection").filter(
        chunk_id=chunk_id, document__collection__in=Collection.granted_to(request.user),
    ).first()
    if chunk is None:
        raise Http404("No such passage in a collection open to you.")
    spans = recorded_entities(request, chunk_id)
    roles = [role.value for role in roles_of(request.user)]
    passage = masked_passage(chunk, spans, current_policy(), roles, reveal=request.GET.get("reveal") == "1")
    if passage.refused:
        return JsonResponse({"error": REVEAL_REFUSED, "code": "reveal_not_allowed"}, status=403)
    if passage.revealed:
        record_reveal(request.user, chunk, passage)
    return JsonResponse({"document": chunk.document.filename, "section": chunk.section, "page": chunk.page,
                         "text": passage.text, "notice": passage.notice, "can_reveal": passage.can_reveal})


def recorded_entities(request, chunk_id: str) -> list | None:
    """Where the worker found personal data in the passage, as recorded on the analyst's exchange
    that retrieved it; None when there is no such record."""
    try:
        exchange_id = int(request.GET.get("exchange", ""))
    except ValueError:
        return None
    exchange = Exchange.objects.filter(pk=exchange_id, conversation__user=request.user).first()
    return exchange.passage_entities.get(chunk_id) if exchange is not None else None


def record_reveal(user, chunk, passage: ShownPassage) -> None:
    """A reveal is an audited read: who saw which kinds of personal data in which passage (never the values)."""
    document = chunk.document
    record_event("passage.revealed", user, ("chunk", chunk.chunk_id), document=document.filename,
                 document_id=str(document.uid), collection=document.collection.name, entity_types=list(passage.revealed),
                 labels={"collection": [document.collection.name], "entity": list(passage.revealed)})
