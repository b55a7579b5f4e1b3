from django.conf import settings
from django.core.management.base import BaseCommand

from appliance.accounts.demo import create_demo_people
from appliance.accounts.roles import install_roles
from appliance.routing.registry import SHIPPED_DISABLED, register_shipped_models


class Command(BaseCommand):
    help = "Create the role groups; with --demo, one demo user per role and the team group `analysts`."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="create demo users analyst, admin, officer")

    def handle(self, *args, demo=False, **options):
        created = install_roles()
        self.stdout.write(f"roles: analyst, admin, compliance ({len(created)} created)")
        for model in register_shipped_models():
            state = "enabled" if model.enabled else f"disabled: {SHIPPED_DISABLED[model.name]}"
            self.stdout.write(f"model registered: {model.name} ({model.quantization}, sha256 {model.sha256[:12]}…, {state})")
        if demo:
            self.write_demo_logins(create_demo_people(settings.APPLIANCE_DEMO_PASSWORDS))

    def write_demo_logins(self, logins):
        for login in logins:
            if login.password:
                self.stdout.write(f"demo user created: {login.username} ({login.role.label}) password: {login.password}")
            else:
                self.stdout.write(
                    f"demo user exists: {login.username} ({login.role.label}); its password was shown when it was "
                    f"created (reset it with `python manage.py changepassword {login.username}`)"
                )
