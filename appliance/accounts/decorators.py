from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from appliance.accounts.roles import has_permission


def permission_required(codename: str):
    """View decorator: anonymous people go to the login page; signed-in people without the
    permission get 403 (not a login loop that hides the reason)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_permission(request.user, codename):
                raise PermissionDenied(f"Your role does not allow this ({codename}).")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

