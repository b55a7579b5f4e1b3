from django.conf import settings
from django.db import models


class RolePermission(models.Model):
    """Anchor for the appliance's own permissions; it has no table and no rows.

    Roles are Django groups (see roles.py); these are the permissions they carry.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("ask_questions", "Ask questions in granted collections"),
            ("manage_collections", "Create collections, grant groups, upload and erase documents"),
            ("manage_models", "Manage the model registry"),
            ("manage_users", "Manage users and their roles"),
            ("read_ledger", "Read and export the audit ledger"),
            ("review_traces", "Review, annotate and escalate answer traces"),
            ("edit_policy", "Edit the screening policy"),
        ]


class PasswordChangeRequired(models.Model):
    """Present while USER must choose their own password before using the appliance: the one they
    have was set, or seen, by someone else (an administrator on the people page). Changing the
    password deletes the row (passwords.change_password)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    since = models.DateTimeField(auto_now_add=True)
