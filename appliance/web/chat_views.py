"""The analyst's chat: ask about granted collections, watch the answer arrive, open its sources."""
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.accounts.decorators import permission_required
from appliance.answering.conversations import ask_in_conversation
from appliance.answering.models import Conversation, Exchange
from appliance.errors import ApplianceError
from ingest.models import Chunk, Collection

ask_questions = permission_required("ask_questions")


@ask_questions
def chat(request, conversation_id=None):
    conversation = None
    if conversation_id is not None:
        conversation = get_object_or_404(Conversation, pk=conversation_id, user=request.user)
    return render(request, "web/chat.html", chat_context(request, conversation, request.GET.getlist("collection")))


def chat_context(request, conversation, chosen, **extra) -> dict:
    """What the chat page shows: the conversation, the analyst's history, their collections."""
    return {
        "conversation": conversation,
        "exchanges": list(conversation.exchanges.all()) if conversation else [],
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
        "stage": exchange.stage, "answer": exchange.answer, "route": exchange.route, "sources": exchange.sources,
        "evidence": exchange.evidence, "cited": exchange.cited, "flags": exchange.flags,
        "in_progress": exchange.is_in_progress,
    })


def status_label(exchange: Exchange) -> str:
    """In plain words: the stage while the answer is on its way, then its outcome."""
    if exchange.is_in_progress:
        return exchange.get_stage_display() if exchange.stage else exchange.get_status_display()
    return exchange.get_outcome_display() if exchange.outcome else exchange.get_status_display()


@ask_questions
@require_GET
def source_passage(request, chunk_id):
    """The text of one passage, if its collection is granted to one of the analyst's teams now."""
    # The same text in two documents has the same chunk id; either copy is the passage.
    chunk = Chunk.objects.select_related("document").filter(
        chunk_id=chunk_id, document__collection__in=Collection.granted_to(request.user),
    ).first()
    if chunk is None:
        raise Http404("No such passage in a collection open to you.")
    return JsonResponse({"document": chunk.document.filename, "section": chunk.section, "page": chunk.page,
                         "text": chunk.text})
