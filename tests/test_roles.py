import pytest
from django.contrib.auth.models import Group, Permission

from appliance.accounts.roles import ROLE_PERMISSIONS, Role, has_permission, install_roles
from tests.conftest import make_person

pytestmark = pytest.mark.services


def test_it_creates_each_role_group_with_exactly_its_permissions(db):
    assert install_roles() == ["analyst", "admin", "compliance"]

    for role, codenames in ROLE_PERMISSIONS.items():
        granted = Group.objects.get(name=role.value).permissions.values_list("codename", flat=True)
        assert sorted(granted) == sorted(codenames)


def test_it_installs_roles_idempotently(db):
    install_roles()
    Group.objects.get(name="analyst").permissions.add(Permission.objects.get(codename="read_ledger"))

    assert install_roles() == []
    assert Group.objects.filter(name__in=[role.value for role in Role]).count() == 3
    # A drifted group is put back to its defined permissions.
    assert not Group.objects.get(name="analyst").permissions.filter(codename="read_ledger").exists()


def test_it_keeps_duties_apart(analyst, admin, officer):
    assert has_permission(analyst, "ask_questions") and not has_permission(analyst, "manage_collections")
    assert has_permission(admin, "manage_collections") and not has_permission(admin, "read_ledger")
    assert has_permission(officer, "read_ledger") and not has_permission(officer, "ask_questions")


def test_it_grants_a_superuser_nothing_beyond_its_roles(roles):
    root = make_person("root")
    root.is_superuser = True
    root.save()

    assert not has_permission(root, "read_ledger")
    assert not has_permission(root, "ask_questions")


def test_it_grants_an_inactive_person_nothing(analyst):
    analyst.is_active = False

    assert not has_permission(analyst, "ask_questions")
