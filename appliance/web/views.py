from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from appliance.accounts.decorators import permission_required
from appliance.accounts.roles import Role, roles_of, set_roles
from appliance.accounts.tokens import issue_api_token, revoke_api_token, tokens_of
from appliance.health.heartbeat import is_worker_alive, latest_heartbeat
from appliance.routing.shipped import shipped_models
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
        "people": people_with_roles(),
        "heartbeat": heartbeat,
        "worker_alive": is_worker_alive(heartbeat),
        "vector_store": f"Qdrant server at {settings.QDRANT_URL}" if settings.QDRANT_URL else "Qdrant Edge (embedded)",
        "models": [(model, model.path.is_file()) for model in shipped_models()],
        "can_change_roles": True,
        "roles": list(Role),
    }
    return render(request, "web/admin_home.html", context)


@permission_required("manage_users")
@require_POST
def change_roles(request, user_id):
    """An administrator gives a person exactly the roles ticked. Nobody changes their own roles:
    an administrator who could make themselves a compliance officer would review their own work."""
    person = User.objects.filter(pk=user_id, is_active=True).first()
    if person is None:
        raise Http404("No such person.")
    if person == request.user:
        messages.error(request, "You cannot change your own roles; ask another administrator.")
        return redirect("admin-home")
    ticked = [role for role in Role if request.POST.get(f"role_{role.value}")]
    granted, revoked = set_roles(person, ticked, request.user)
    changes = [f"{verb} {', '.join(roles)}" for verb, roles in (("granted", granted), ("revoked", revoked)) if roles]
    if changes:
        messages.success(request, f"{person.username}: {'; '.join(changes)}.")
    return redirect("admin-home")


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
