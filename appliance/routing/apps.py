from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "appliance.routing"
    label = "routing"
    verbose_name = "Model registry and routing"

    def ready(self):
        from appliance.routing import checks  # noqa: F401 -- registers the system checks
