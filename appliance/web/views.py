from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.signals import user_login_failed
from django.http import Http404
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from appliance.accounts.decorators import permission_required
from appliance.accounts.lockout import locked_out
from appliance.accounts.passwords import MUST_CHANGE_MESSAGE, change_password, must_change_password
from appliance.accounts.people import create_person, create_team, one_time_password, reset_password, set_teams
from appliance.accounts.roles import Role, roles_of, set_roles, teams
from appliance.accounts.tokens import issue_api_token, revoke_api_token, tokens_of
from appliance.health.heartbeat import is_worker_alive, latest_heartbeat
from appliance.routing.shipped import shipped_models
from appliance.web.people_forms import PersonForm, TeamsForm
from ingest.models import Collection

ROLE_HOMES = {Role.ANALYST: "analyst-home", Role.ADMIN: "admin-home", Role.COMPLIANCE: "compliance-home"}


@login_required
def home(request):
    """Send each person to their role's home page; a person with no role is told so."""
    roles = roles_of(request.user)
    if len(roles) == 1:
        return redirect(ROLE_HOMES[roles[0]])
    return render(request, "web/home.html", {"role_homes": [(role, ROLE_HOMES[role]) for role in roles]})


@permission_required("ask_questions")
def analyst_home(request):
    teams = request.user.groups.exclude(name__in=[role.value for role in Role]).order_by("name")
    collections = Collection.granted_to(request.user).order_by("name")
    return render(request, "web/analyst_home.html", {"teams": teams, "collections": collections})


def people_with_roles():
    return User.objects.filter(is_active=True).prefetch_related("groups").order_by("username")


@permission_required("manage_users")
def admin_home(request):
    heartbeat = latest_heartbeat()
    context = {
        "people_count": people_with_roles().count(),
        "heartbeat": heartbeat,
        "worker_alive": is_worker_alive(heartbeat),
        "vector_store": f"Qdrant server at {settings.QDRANT_URL}" if settings.QDRANT_URL else "Qdrant Edge (embedded)",
        "models": [(model, model.path.is_file()) for model in shipped_models()],
    }
    return render(request, "web/admin_home.html", context)


@permission_required("manage_users")
def people(request):
    """Everyone with their roles and teams, and the form that creates a person. A password the
    appliance made is shown once, on the page that answers the creation, and never again."""
    form = PersonForm(request.POST or None)
    created, password = None, ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password1"] or one_time_password()
        with transaction.atomic():
            chosen = list(data["teams"]) + ([create_team(data["new_team"], request.user)] if data["new_team"] else [])
            created = create_person(data["username"], password, data["roles"], chosen, request.user, data["email"])
        if data["password1"]:
            password = ""  # the administrator typed it: nothing to show
        form = PersonForm()
    return people_page(request, form, created=created, one_time_password=password)


def people_page(request, form, **shown):
    """The people page with SHOWN (a person just created or whose password was just reset, and
    the one-time password to hand over). Like every page behind sign-in, it is sent with
    Cache-Control: no-store (caching.py): the one-time password stays in no cache."""
    context = {"form": form, "people": people_with_roles(), "can_change_roles": True, "roles": list(Role),
               "teams": list(teams()), **shown}
    return render(request, "web/people.html", context, status=400 if form.errors else 200)


def active_person(user_id) -> User:
    """The active account USER_ID, or 404."""
    person = User.objects.filter(pk=user_id, is_active=True).first()
    if person is None:
        raise Http404("No such person.")
    return person


@sensitive_post_parameters()
@permission_required("manage_users")
@require_POST
def reset_password_view(request, user_id):
    """An administrator gives a person who lost their password (or is locked out) a one-time one,
    shown once; the person must choose their own at next sign-in. Not for one's own password:
    that is the change page, which asks for the current one."""
    person = active_person(user_id)
    if person == request.user:
        messages.error(request, "To change your own password, use Change password: it asks for your current one.")
        return redirect("people")
    return people_page(request, PersonForm(), reset=person, one_time_password=reset_password(person, request.user))


@permission_required("manage_users")
@require_POST
def change_roles(request, user_id):
    """An administrator gives a person exactly the roles ticked. Nobody changes their own roles:
    an administrator who could make themselves a compliance officer would review their own work."""
    person = active_person(user_id)
    if person == request.user:
        messages.error(request, "You cannot change your own roles; ask another administrator.")
        return redirect("people")
    ticked = [role for role in Role if request.POST.get(f"role_{role.value}")]
    granted, revoked = set_roles(person, ticked, request.user)
    changes = [f"{verb} {', '.join(roles)}" for verb, roles in (("granted", granted), ("revoked", revoked)) if roles]
    if changes:
        messages.success(request, f"{person.username}: {'; '.join(changes)}.")
    return redirect("people")


@permission_required("manage_users")
@require_POST
def change_teams(request, user_id):
    """An administrator puts a person in exactly the teams ticked (their own too: a team grants
    collections and escalations, no duty)."""
    person = active_person(user_id)
    form = TeamsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick teams from the list: one of them no longer exists.")
        return redirect("people")
    joined, left = set_teams(person, form.cleaned_data["teams"], request.user)
    changes = [f"{verb} {', '.join(names)}" for verb, names in (("joined", joined), ("left", left)) if names]
    if changes:
        messages.success(request, f"{person.username}: {'; '.join(changes)}.")
    return redirect("people")


@login_required
def api_tokens(request):
    new_token = None
    if request.method == "POST":
        new_token = issue_api_token(request.user)
    return render(request, "web/api_tokens.html", {"tokens": tokens_of(request.user), "new_token": new_token})


@login_required
@require_POST
def revoke_api_token_view(request, token_key):
    if not revoke_api_token(request.user, token_key):
        raise Http404("No such token.")
    messages.success(request, f"Token {token_key}… revoked.")
    return redirect("api-tokens")


@sensitive_post_parameters()
@login_required
def password_change(request):
    """Anyone signed in replaces their own password with Django's PasswordChangeForm: the current
    one, then the new one twice, checked against AUTH_PASSWORD_VALIDATORS. This session stays
    signed in (update_session_auth_hash); the person's other sessions end."""
    credentials = {"username": request.user.get_username()}
    if request.method == "POST" and AxesProxyHandler.is_locked(request, credentials):
        return locked_out(request)
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and "old_password" in form.errors:
        # A wrong current password counts as a failed sign-in (django-axes): a borrowed session may not
        # guess it without limit, and the account locks here and at the sign-in page alike.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if request.method == "POST" and form.is_valid():
        change_password(request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, "Your password is changed. Sign in with the new one from now on.")
        return redirect("home")
    context = {"form": form, "must_change": must_change_password(request.user),
               "must_change_message": MUST_CHANGE_MESSAGE, "rules": password_validators_help_texts()}
    return render(request, "web/password_change.html", context, status=400 if form.errors else 200)
