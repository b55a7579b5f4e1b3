from rest_framework.decorators import api_view
from rest_framework.response import Response

from appliance.accounts.roles import roles_of


@api_view(["GET"])
def me(request):
    """Who the token belongs to and which roles it carries."""
    return Response({"username": request.user.get_username(), "roles": [role.value for role in roles_of(request.user)]})
