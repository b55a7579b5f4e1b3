"""A person whose password an administrator set (or saw) chooses their own before anything else."""
from django.shortcuts import redirect
from django.urls import reverse

from appliance.accounts.passwords import must_change_password

API_PREFIX = "/api/"


class SendToPasswordChange:
    """Middleware: while a signed-in person must change their password, every page redirects to
    the change page, which says why. Left alone: that page and signing out; the API, whose
    PasswordChosen permission answers 403 in the API's shape (it also sees token users, whom DRF
    authenticates only inside the view); and static files, which whitenoise serves before any of
    this runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and not is_exempt(request.path) and must_change_password(request.user):
            return redirect("password-change")
        return self.get_response(request)


def is_exempt(path: str) -> bool:
    return path in (reverse("password-change"), reverse("logout")) or path.startswith(API_PREFIX)
