"""Personal API tokens (knox: only a hash of each token is stored; the token is shown once)."""
from django.db import transaction
from knox.models import AuthToken


def issue_api_token(user) -> str:
    """Create a token for USER and return its secret; it cannot be shown again."""
    with transaction.atomic():
        _, secret = AuthToken.objects.create(user=user)
    return secret


def tokens_of(user):
    return AuthToken.objects.filter(user=user).order_by("-created")


def revoke_api_token(user, token_key: str) -> bool:
    """Delete USER's token whose visible prefix is TOKEN_KEY; False if USER has no such token."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted > 0
