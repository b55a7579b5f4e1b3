from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from appliance.accounts.roles import roles_of
from appliance.api_contract import error_responses


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


@extend_schema(responses={200: MeSerializer, **error_responses(401, 403)})
@api_view(["GET"])
def me(request):
    """Who the token belongs to and which roles it carries."""
    return Response({"username": request.user.get_username(), "roles": [role.value for role in roles_of(request.user)]})
