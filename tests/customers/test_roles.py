import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from customers.roles import ROLES, role_grants
from customers.services import roles_sync
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_setup_roles_creates_the_five_roles(capsys):
    call_command("setup_roles")
    assert set(Group.objects.values_list("name", flat=True)) == {
        "Owner",
        "Manager",
        "Warehouse",
        "Support",
        "Marketing",
    }
    assert "5 roles are up to date" in capsys.readouterr().out


def test_setup_roles_is_idempotent_and_repairs_edits():
    roles_sync()
    before = {role: perms_of(role) for role in ROLES}
    Group.objects.get(name="Warehouse").permissions.clear()
    roles_sync()
    roles_sync()
    assert {role: perms_of(role) for role in ROLES} == before
    assert Group.objects.filter(name="Owner").count() == 1


def test_each_role_opens_the_pillars_its_name_suggests():
    roles_sync()
    assert "customers.manage_staff" in perms_of("Owner")
    assert "customers.manage_staff" not in perms_of("Manager")
    assert {"inventory.access_inventory", "fulfillment.access_fulfillment"} <= perms_of("Warehouse")
    assert "marketing.access_marketing" not in perms_of("Warehouse")
    assert {"customers.access_customers", "orders.access_orders"} <= perms_of("Support")
    assert "inventory.access_inventory" not in perms_of("Support")
    assert {"marketing.access_marketing", "analytics.access_analytics"} <= perms_of("Marketing")
    assert "orders.access_orders" not in perms_of("Marketing")
    for role in ROLES:
        assert "customers.access_dashboard" in perms_of(role)


def test_only_the_owner_may_touch_staff_accounts_and_second_factors():
    roles_sync()
    for role in ("Manager", "Warehouse", "Support", "Marketing"):
        assert not {
            perm for perm in perms_of(role) if perm.endswith(("_user", "_totpdevice", "_staff"))
        } - {"customers.view_user"}, role


def test_patterns_reach_permissions_added_later():
    # A model added by a later issue (say catalog.change_product) reaches the right roles.
    assert role_grants("Manager", "catalog.change_product")
    assert role_grants("Warehouse", "inventory.add_purchaseorder")
    assert role_grants("Warehouse", "catalog.view_product")
    assert not role_grants("Warehouse", "catalog.change_product")
    assert role_grants("Support", "fulfillment.change_returnrequest")
    assert not role_grants("Marketing", "orders.add_refund")


def test_user_in_a_role_holds_its_permissions():
    roles_sync()
    user = StaffFactory(role="Warehouse")
    assert user.has_perm("inventory.access_inventory")
    assert not user.has_perm("marketing.access_marketing")
