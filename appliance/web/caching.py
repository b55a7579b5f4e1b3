"""Pages behind sign-in show decrypted ledger entries, questions, answers and source passages:
no browser, shared-computer back button or caching proxy may keep a copy."""
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"


class NoStoreBehindSignIn:
    """Middleware: `Cache-Control: no-store` (with no-cache, private, max-age=0) on every response
    to a signed-in person and on every API response. Static files (served by whitenoise, before
    this middleware) and the sign-in page's own headers are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # DRF authenticates a token inside the view and sets request.user then; the prefix covers
        # API responses that never got that far (401, 404).
        if request.path.startswith(API_PREFIX) or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
