"""A person's own password: changing it, and the rule that a password someone else chose must be
changed before anything else (models.PasswordChangeRequired).

- require_password_change(): flag PERSON; people.create_person() calls it.
- must_change_password(): is PERSON flagged?
- change_password(): a new password chosen by its owner, "password.changed"; clears the flag.

Passwords never reach the ledger or the logs; the caller has checked them against
AUTH_PASSWORD_VALIDATORS (Django's PasswordChangeForm).
"""
from django.db import transaction

from appliance.accounts.models import PasswordChangeRequired
from appliance.audit.recording import record_event

# What a flagged person is told on the change page; the API says where to go (api_permissions.py).
MUST_CHANGE_MESSAGE = "Your password was set by an administrator. Choose your own before you go on."
MUST_CHANGE_CODE = "password_change_required"


def require_password_change(person) -> None:
    """PERSON must choose a new password at their next request; call it inside the transaction
    that set the password."""
    PasswordChangeRequired.objects.get_or_create(user=person)


def must_change_password(person) -> bool:
    return person.is_authenticated and PasswordChangeRequired.objects.filter(user_id=person.pk).exists()


def change_password(person, new_password: str) -> None:
    """PERSON's password becomes NEW_PASSWORD, chosen by themselves; the flag is cleared and
    "password.changed" recorded (whether it was required, never the password)."""
    with transaction.atomic():
        person.set_password(new_password)
        person.save(update_fields=["password"])
        cleared, _ = PasswordChangeRequired.objects.filter(user_id=person.pk).delete()
        record_event("password.changed", person, person, username=person.get_username(), was_required=cleared > 0)
