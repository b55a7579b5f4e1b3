from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

from appliance.routing.shipped import shipped_models


@register()
def check_shipped_model_files(app_configs=None, **kwargs):
    return [
        Error(
            f"{model.name} model file not found at {model.path}",
            hint=f"set {model.setting} to an existing GGUF file, or {model.install_hint}",
            id="routing.E001",
        )
        for model in shipped_models()
        if not model.path.is_file()
    ]


@register()
def check_model_directories(app_configs=None, **kwargs):
    return [
        Error(
            f"ROUTING_MODEL_DIRS holds a relative path, {directory}",
            hint="give each model directory as a full path, starting with /",
            id="routing.E002",
        )
        for directory in settings.ROUTING_MODEL_DIRS
        if not Path(directory).is_absolute()
    ]
