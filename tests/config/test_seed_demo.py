import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from customers.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD
from customers.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_staff_for_every_role_and_shoppers(capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    for email, _, role in DEMO_STAFF:
        user = User.objects.get(email=email)
        assert user.is_staff
        assert user.role_names == [role]
        assert user.check_password(DEMO_STAFF_PASSWORD)
    assert User.objects.filter(is_staff=False).count() == 40
    assert "Demo data is loaded." in capsys.readouterr().out


def counts() -> dict[str, int]:
    from catalog.models import Product, ProductImage, Variant
    from inventory.models import StockLevel, StockMovement, SupplierItem

    models = (User, Product, Variant, ProductImage, StockLevel, StockMovement, SupplierItem)
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_twice_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    snapshot = sorted(User.objects.values_list("email", "password", "full_name"))
    seeded = counts()
    assert seeded["Product"] > 10
    assert seeded["StockMovement"] > 10
    call_command("seed_demo")
    assert sorted(User.objects.values_list("email", "password", "full_name")) == snapshot
    assert counts() == seeded
    assert Group.objects.count() == 5


def test_seed_demo_refuses_production_without_the_flag(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo")
    assert not User.objects.exists()
