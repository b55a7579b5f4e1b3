"""Administrators' page for the model registry: what each model is, whether it can be used, and the
changes an admin may make (register a GGUF file, switch on and off, edit, accept a replaced file).
The sha256 of a file is read by the worker; the page says "hashing…" until it has."""
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from appliance.accounts.decorators import permission_required
from appliance.routing import registry
from appliance.routing.models import RegisteredModel
from appliance.web.model_forms import ModelSettingsForm, RegisterModelForm, duplicate_name

manage_models = permission_required("manage_models")


@manage_models
@require_GET
def model_registry(request):
    return render_registry(request)


@manage_models
@require_POST
def register_model(request):
    form = RegisterModelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            model = registry.request_registration(data["name"], data["gguf_path"], data["domain"], request.user,
                                                  context_size=data["context_size"])
        except registry.ModelFileRejected as rejection:  # the file changed after the form read it
            form.add_error("gguf_path", rejection.message)
        except IntegrityError:  # another admin registered the name at the same moment
            form.add_error("name", duplicate_name(data["name"]))
        else:
            messages.success(request, f"Model “{model.name}” registered ({model.quantization}), disabled: the worker "
                                      "is reading its sha256. Enable it once you have checked the sha256 shown here.")
            return redirect("model-registry")
    return render_registry(request, register_form=form)


@manage_models
@require_POST
def enable_model(request, model_id):
    model = get_object_or_404(RegisteredModel, pk=model_id)
    try:
        registry.set_model_enabled(model, True, request.user, sha256=request.POST.get("sha256", ""))
    except registry.ModelNotReady as refusal:
        messages.error(request, refusal.message)
        return redirect("model-registry")
    problem = registry.internal_choice(model, verify_sha256=False).problem
    if problem:
        messages.warning(request, f"Model “{model.name}” enabled, but {problem}")
    else:
        messages.success(request, f"Model “{model.name}” enabled: questions may be routed to it.")
    return redirect("model-registry")


@manage_models
@require_POST
def disable_model(request, model_id):
    model = get_object_or_404(RegisteredModel, pk=model_id)
    registry.set_model_enabled(model, False, request.user)
    messages.success(request, f"Model “{model.name}” disabled: no question is routed to it until it is enabled again.")
    return redirect("model-registry")


@manage_models
@require_POST
def edit_model(request, model_id):
    model = get_object_or_404(RegisteredModel, pk=model_id)
    form = ModelSettingsForm(request.POST, prefix=edit_prefix(model))
    if not form.is_valid():
        return render_registry(request, edit_forms={model.pk: form})
    changes = registry.update_model(model, request.user, **form.cleaned_data)
    if changes:
        messages.success(request, f"Model “{model.name}” saved: questions are routed with its new settings from now on.")
    else:
        messages.info(request, f"Model “{model.name}” is unchanged.")
    return redirect("model-registry")


@manage_models
@require_POST
def rehash_model(request, model_id):
    model = get_object_or_404(RegisteredModel, pk=model_id)
    try:
        registry.request_rehash(model, request.user)
    except registry.ModelFileRejected as rejection:
        messages.error(request, f"Model “{model.name}” was not changed. {rejection.message}")
    else:
        messages.success(request, f"Model “{model.name}” disabled while the worker reads the sha256 of the file now "
                                  "at its path. Enable it once you have checked the new sha256.")
    return redirect("model-registry")


def render_registry(request, *, register_form=None, edit_forms=None):
    """The registry page; a form that failed validation is shown with its errors (status 200, as
    Django's form pages do)."""
    edit_forms = edit_forms or {}
    rows = [
        # No hashing in a web request: the page trusts the file's size and time; the worker checks
        # the sha256 before each use.
        (model, registry.internal_choice(model, verify_sha256=False), edit_forms.get(model.pk) or ModelSettingsForm(
            prefix=edit_prefix(model), initial={"domain": model.domain, "context_size": model.context_size}))
        for model in RegisteredModel.objects.all()
    ]
    context = {
        "rows": rows,
        "model_dirs": registry.model_directories(),
        "external": external_model(),
        "register_form": register_form or RegisterModelForm(),
    }
    return render(request, "web/model_registry.html", context)


def edit_prefix(model: RegisteredModel) -> str:
    """Each model's form on the page has its own field names (and ids)."""
    return f"model-{model.pk}"


def external_model() -> dict | None:
    """The external model as configured, without its key or any credentials in the URL."""
    if not settings.APPLIANCE_EXTERNAL_LLM_URL:
        return None
    url = urlsplit(settings.APPLIANCE_EXTERNAL_LLM_URL)
    return {"host": url.netloc.rpartition("@")[2], "scheme": url.scheme, "model": settings.APPLIANCE_EXTERNAL_LLM_MODEL}
