"""People and teams, as administrators manage them: each creation and change writes its ledger
entry in the same transaction (roles: roles.set_roles, "roles.changed").

- create_person(): a new account with its roles and teams, "person.created"; its owner must
  choose their own password at first sign-in (passwords.require_password_change).
- create_team(): a new team (a Django group that is not a role, roles.teams()), "team.created".
- set_teams(): exactly these teams for a person, "teams.changed".
- reset_password(): a one-time password for a person who lost theirs, "password.reset"; they must
  choose their own at next sign-in, and a sign-in lockout on their name is lifted.

Passwords never reach the ledger; the caller has checked them against AUTH_PASSWORD_VALIDATORS.
"""
import secrets

from axes.utils import reset as lift_sign_in_lockout
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from appliance.accounts.passwords import require_password_change
from appliance.accounts.roles import Role, teams
from appliance.audit.recording import record_event


def create_person(username: str, password: str, roles, team_groups, actor, email: str = ""):
    """A new active account USERNAME with PASSWORD, exactly ROLES and TEAM_GROUPS, recorded as
    "person.created" by ACTOR. The password is known to whoever set or saw it, so the person
    must replace it before anything else. Returns the user."""
    role_names = sorted(Role(role).value for role in roles)
    team_names = sorted(team.name for team in team_groups)
    with transaction.atomic():
        person = get_user_model().objects.create_user(username=username, password=password, email=email)
        person.groups.add(*Group.objects.filter(name__in=role_names), *team_groups)
        require_password_change(person)
        record_event("person.created", actor, person, username=username, roles=role_names, teams=team_names)
    return person


def create_team(name: str, actor) -> Group:
    """A new team NAME, recorded as "team.created" by ACTOR."""
    with transaction.atomic():
        team = Group.objects.create(name=name)
        record_event("team.created", actor, ("team", team.pk), name=name)
    return team


def set_teams(person, team_groups, actor) -> tuple[list[str], list[str]]:
    """Give PERSON exactly TEAM_GROUPS (their roles stay), recorded as "teams.changed" by ACTOR.
    Returns the names of the teams joined and left; nothing is recorded when neither."""
    wanted = {team.name for team in team_groups}
    with transaction.atomic():
        held = set(person.groups.filter(pk__in=teams().values("pk")).values_list("name", flat=True))
        joined, left = sorted(wanted - held), sorted(held - wanted)
        if joined or left:
            person.groups.add(*teams().filter(name__in=joined))
            person.groups.remove(*teams().filter(name__in=left))
            record_event("teams.changed", actor, person, username=person.get_username(), joined=joined, left=left)
    return joined, left


def reset_password(person, actor) -> str:
    """A new one-time password for PERSON, set by ACTOR and recorded as "password.reset" (never the
    password). Their sessions end (Django ties a session to the password), they must choose their own
    password at next sign-in, and a lockout on their name after failed sign-ins is lifted. Returns
    the password, to be shown once."""
    password = one_time_password()
    with transaction.atomic():
        person.set_password(password)
        person.save(update_fields=["password"])
        require_password_change(person)
        record_event("password.reset", actor, person, username=person.get_username())
    lift_sign_in_lockout(username=person.get_username())
    return password


def one_time_password() -> str:
    """A password to hand over once: 20 random URL-safe characters (about 120 bits), which pass
    the length, common-password and numeric validators."""
    return secrets.token_urlsafe(15)
