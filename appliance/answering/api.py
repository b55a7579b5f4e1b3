"""The analyst API under /api/v1/ (token or session auth, role `analyst`), with the chat's semantics:
a question is queued for the worker (202) and its answer is read from /api/v1/questions/N."""
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, throttle_classes
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from appliance.accounts.roles import has_permission
from appliance.answering.conversations import ask_in_conversation
from appliance.answering.masking import masked_exchange_answer, masked_quotes
from appliance.answering.models import Conversation, Exchange
from appliance.answering.rate_limits import AskRateThrottle
from appliance.api_contract import NameField, QuestionField, StrictIntegerField, error_responses
from appliance.errors import ApplianceError
from guardrails.publishing import current_policy
from ingest.models import Collection


class CollectionSerializer(serializers.Serializer):
    name = serializers.CharField()
    classification = serializers.CharField()


class AskSerializer(serializers.Serializer):
    question = QuestionField()
    collections = serializers.ListField(child=NameField(), required=False, default=list,
                                        help_text="Collections to ask about; empty: every collection granted to you.")
    conversation = StrictIntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                      help_text="Continue this conversation of yours.")


class SourceSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    chunk_id = serializers.CharField()
    document = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    section = serializers.CharField(allow_blank=True)


class QuoteSerializer(SourceSerializer):
    text = serializers.CharField(help_text="verbatim sentence of passage n, with the personal data the answer check "
                                           "withholds masked by as many \u2022 as it has characters")
    start = serializers.IntegerField(help_text="offset of the quote in passage n's text")
    end = serializers.IntegerField()


class ExchangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    conversation = serializers.IntegerField(source="conversation_id")
    question = serializers.CharField()
    status = serializers.CharField(help_text="queued, answering, answered, refused, blocked or failed")
    outcome = serializers.CharField(
        help_text="when done: answered (model text, grounded in the evidence), quoted (the evidence only; flags say "
                  "why), not_found (the documents don't answer this), refused or blocked; empty while in progress")
    stage = serializers.CharField(help_text="while in progress: screening, searching, writing or checking")
    in_progress = serializers.BooleanField(source="is_in_progress")
    answer = serializers.CharField()
    route = serializers.DictField(allow_null=True, help_text="model, perimeter, sensitivity and the reason")
    sources = SourceSerializer(many=True, help_text="the passages retrieved")
    evidence = QuoteSerializer(many=True, help_text="the quotes the answer rests on")
    cited = serializers.ListField(child=serializers.IntegerField(), help_text="passage numbers the answer rests on")
    flags = serializers.ListField(child=serializers.CharField(),
                                  help_text="why the model's text was not shown, or why the question was blocked")
    reasons = serializers.SerializerMethodField(
        help_text="for a blocked question: why, in plain words (e.g. \"it contains a payment card number\"); "
                  "the answer says the same with the policy version. Empty otherwise")
    trace_id = serializers.CharField()

    def to_representation(self, exchange):
        """The quotes, and the answer wherever it repeats a value they mask, masked as the chat masks them."""
        data = super().to_representation(exchange)
        if exchange.evidence:
            policy = current_policy()
            data["answer"] = masked_exchange_answer(exchange, policy)
            data["evidence"] = QuoteSerializer(masked_quotes(exchange, policy), many=True).data
        return data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, exchange) -> list[str]:
        # A blocked exchange's flags are the screen's reasons (pipeline.Answer.flags).
        return list(exchange.flags) if exchange.outcome == Exchange.Outcome.BLOCKED else []


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    started_at = serializers.DateTimeField()
    sensitivity = serializers.CharField()
    exchanges = ExchangeSerializer(many=True)


def require_analyst(request) -> None:
    if not has_permission(request.user, "ask_questions"):
        raise PermissionDenied("Only analysts may ask questions.")


def error_response(error: ApplianceError) -> Response:
    return Response({"error": error.message, "code": error.code}, status=error.status)


@extend_schema(responses={200: CollectionSerializer(many=True), **error_responses(401, 403)})
@api_view(["GET"])
def collections(request):
    """The collections granted to your teams."""
    require_analyst(request)
    granted = Collection.granted_to(request.user).order_by("name")
    return Response(CollectionSerializer(granted, many=True).data)


@extend_schema(request=AskSerializer,
               responses={202: ExchangeSerializer, **error_responses(400, 401, 403, 404, 415, 429)})
@api_view(["POST"])
@parser_classes([JSONParser])
@throttle_classes([AskRateThrottle])
def ask(request):
    """Ask a question. It is screened and answered by the worker; poll the returned question's URL."""
    require_analyst(request)
    data = AskSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    conversation = None
    if data.validated_data.get("conversation") is not None:
        conversation = Conversation.objects.filter(pk=data.validated_data["conversation"], user=request.user).first()
        if conversation is None:
            raise NotFound("No such conversation of yours.")
    try:
        exchange = ask_in_conversation(
            request.user, data.validated_data["question"], data.validated_data["collections"], conversation,
        )
    except ApplianceError as error:
        return error_response(error)
    return Response(ExchangeSerializer(exchange).data, status=status.HTTP_202_ACCEPTED,
                    headers={"Location": f"/api/v1/questions/{exchange.pk}"})


@extend_schema(responses={200: ExchangeSerializer, **error_responses(401, 403, 404)})
@api_view(["GET"])
def question(request, exchange_id: int):
    """One of your questions, with its answer so far."""
    require_analyst(request)
    exchange = Exchange.objects.filter(pk=exchange_id, conversation__user=request.user).first()
    if exchange is None:
        raise NotFound("No such question of yours.")
    return Response(ExchangeSerializer(exchange).data)


@extend_schema(responses={200: ConversationSerializer(many=True), **error_responses(401, 403)})
@api_view(["GET"])
def history(request):
    """Your conversations, newest first (the last 50), with their questions and answers."""
    require_analyst(request)
    conversations = Conversation.objects.filter(user=request.user).prefetch_related("exchanges")[:50]
    return Response(ConversationSerializer(conversations, many=True).data)
