"""Demo people for a first look at the appliance: one per role, and a team group for analysts."""
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from appliance.accounts.roles import Role, roles_of, set_roles

ANALYSTS_TEAM = "analysts"
DEMO_PEOPLE = (("analyst", Role.ANALYST), ("admin", Role.ADMIN), ("officer", Role.COMPLIANCE))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    password: str | None  # None: the account already existed and keeps its password


def create_demo_people(passwords: dict[str, str]) -> list[DemoLogin]:
    """Create the demo users that do not exist yet; existing ones are left untouched.

    Passwords come from PASSWORDS (by username) or are generated; they are returned only
    for users created now, so the caller can show them once.
    """
    logins = []
    with transaction.atomic():
        team, _ = Group.objects.get_or_create(name=ANALYSTS_TEAM)
        for username, role in DEMO_PEOPLE:
            user = User.objects.filter(username=username).first()
            password = None
            if user is None:
                password = passwords.get(username) or secrets.token_urlsafe(12)
                user = User.objects.create_user(username=username, password=password)
            set_roles(user, {*roles_of(user), role})
            if role is Role.ANALYST:
                user.groups.add(team)
            logins.append(DemoLogin(username, role, password))
    return logins
