from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "appliance.health"
    label = "health"
    verbose_name = "Service health"

    def ready(self):
        from appliance.health import checks  # noqa: F401 -- registers the system checks
