"""The three roles and what each may do (DESIGN.md: separation of duties).

A role is a Django group carrying the appliance's permissions. Permissions are read from role
groups only: superuser status grants nothing here, so nobody holds every duty by accident.
"""
from enum import StrEnum

from django.contrib.auth.models import Group, Permission
from django.db import transaction


class Role(StrEnum):
    ANALYST = "analyst"
    ADMIN = "admin"
    COMPLIANCE = "compliance"

    @property
    def label(self) -> str:
        return {"analyst": "Analyst", "admin": "Administrator", "compliance": "Compliance officer"}[self.value]


ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ANALYST: ("ask_questions",),
    Role.ADMIN: ("manage_collections", "manage_models", "manage_users"),
    Role.COMPLIANCE: ("read_ledger", "review_traces", "edit_policy"),
}


def install_roles() -> list[str]:
    """Create the role groups with exactly their permissions; returns the names of groups created."""
    created = []
    with transaction.atomic():
        for role, codenames in ROLE_PERMISSIONS.items():
            group, was_created = Group.objects.get_or_create(name=role.value)
            permissions = Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
            if permissions.count() != len(codenames):
                raise RuntimeError("role permissions are missing: run `python manage.py migrate` first")
            group.permissions.set(permissions)
            if was_created:
                created.append(role.value)
    return created


def set_roles(user, roles, actor=None) -> tuple[list[str], list[str]]:
    """Give USER exactly ROLES (and keep their teams), with its ledger entry "roles.changed" in the
    same transaction. Returns the roles granted and revoked; nothing is recorded when neither."""
    from appliance.audit.recording import record_event

    wanted = {Role(role).value for role in roles}
    with transaction.atomic():
        held = set(user.groups.filter(name__in=[role.value for role in Role]).values_list("name", flat=True))
        granted, revoked = sorted(wanted - held), sorted(held - wanted)
        if granted or revoked:
            user.groups.add(*Group.objects.filter(name__in=granted))
            user.groups.remove(*Group.objects.filter(name__in=revoked))
            record_event("roles.changed", actor, user, username=user.get_username(), granted=granted, revoked=revoked)
    for cached in ("_appliance_roles", "_appliance_permissions"):
        user.__dict__.pop(cached, None)
    return granted, revoked


def teams():
    """Every team: the groups that are not roles. Collections are granted to teams, and an
    escalation may name a team that has compliance officers among its members."""
    return Group.objects.exclude(name__in=[role.value for role in Role]).order_by("name")


def roles_of(user) -> list[Role]:
    if not user.is_authenticated or not user.is_active:
        return []
    if not hasattr(user, "_appliance_roles"):
        names = set(user.groups.values_list("name", flat=True))
        user._appliance_roles = [role for role in Role if role.value in names]
    return user._appliance_roles


def has_permission(user, codename: str) -> bool:
    """Does one of USER's role groups grant `accounts.<codename>`?"""
    if not user.is_authenticated or not user.is_active:
        return False
    if not hasattr(user, "_appliance_permissions"):
        user._appliance_permissions = frozenset(
            Permission.objects.filter(group__user=user, content_type__app_label="accounts").values_list(
                "codename", flat=True
            )
        )
    return codename in user._appliance_permissions


def roles_context(request) -> dict:
    """Template context: the signed-in user's roles, for the navigation."""
    return {"user_roles": roles_of(request.user)}
