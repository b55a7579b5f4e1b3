import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from appliance.routing.models import RegisteredModel

pytestmark = pytest.mark.services


def bootstrap(*args):
    from io import StringIO

    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_roles_and_registers_the_shipped_models_without_demo_people(db):
    output = bootstrap()

    lines = output.splitlines()
    assert lines[0] == "roles: analyst, admin, compliance (3 created)"
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "model registered: SmolLM2-135M-Instruct Q4_1", "model registered: Gemma 3 270M Q4_K_M",
    ]
    assert lines[2].endswith("disabled: base model, not instruction-tuned: it repeats prompts instead of answering)")
    assert list(RegisteredModel.objects.values_list("name", "enabled")) == [
        ("Gemma 3 270M Q4_K_M", False), ("SmolLM2-135M-Instruct Q4_1", True),
    ]
    assert not User.objects.exists()


def test_it_registers_the_shipped_models_once(db):
    bootstrap()

    assert bootstrap() == "roles: analyst, admin, compliance (0 created)\n"
    assert RegisteredModel.objects.count() == 2


def test_it_creates_one_demo_person_per_role_and_shows_each_password_once(db, settings):
    settings.APPLIANCE_DEMO_PASSWORDS = {"analyst": "analyst-demo-pass-1", "admin": "", "officer": ""}

    output = bootstrap("--demo")

    assert "demo user created: analyst (Analyst) password: analyst-demo-pass-1" in output
    assert User.objects.get(username="analyst").check_password("analyst-demo-pass-1")
    roles = {user.username: sorted(user.groups.values_list("name", flat=True)) for user in User.objects.all()}
    assert roles == {"analyst": ["analyst", "analysts"], "admin": ["admin"], "officer": ["compliance"]}
    admin_password = output.split("demo user created: admin (Administrator) password: ")[1].split()[0]
    assert len(admin_password) >= 16
    assert User.objects.get(username="admin").check_password(admin_password)


def test_it_leaves_existing_demo_people_and_their_passwords_alone(db, settings):
    settings.APPLIANCE_DEMO_PASSWORDS = {"analyst": "first-password-123", "admin": "", "officer": ""}
    bootstrap("--demo")
    settings.APPLIANCE_DEMO_PASSWORDS = {"analyst": "second-password-456", "admin": "", "officer": ""}

    output = bootstrap("--demo")

    assert "password:" not in output
    assert (
        "demo user exists: analyst (Analyst); its password was shown when it was created "
        "(reset it with `python manage.py changepassword analyst`)"
    ) in output
    assert User.objects.get(username="analyst").check_password("first-password-123")
    assert User.objects.count() == 3
