"""Permission classes REST_FRAMEWORK applies to every endpoint. A module of its own: DRF imports
DEFAULT_PERMISSION_CLASSES while rest_framework.views is still loading, so nothing here may import
views or decorators (api.py does)."""
from rest_framework.permissions import BasePermission

from appliance.accounts.passwords import MUST_CHANGE_CODE, must_change_password


class PasswordChosen(BasePermission):
    """After IsAuthenticated: a person whose password an administrator set gets 403
    `password_change_required` from every endpoint until they choose their own, whether they come
    with a token or a session (the web middleware cannot see tokens: DRF checks them in the view)."""

    message = ("Your password was set by an administrator: sign in with a browser and choose your own "
               "at /account/password/ before you use the API.")
    code = MUST_CHANGE_CODE

    def has_permission(self, request, view):
        return request.user is None or not must_change_password(request.user)
