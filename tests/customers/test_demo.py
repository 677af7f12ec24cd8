import pytest

from customers import demo
from customers.models import Address, Customer, User

pytestmark = pytest.mark.django_db


def test_demo_shoppers_get_a_customer_record_an_address_and_consent_once():
    demo.seed(log=lambda _: None)
    shoppers = User.objects.filter(is_staff=False)
    assert shoppers.count() == demo.SHOPPER_COUNT
    assert not shoppers.filter(email_confirmed_at__isnull=True).exists()
    customers = Customer.objects.filter(user__in=shoppers)
    assert customers.count() == demo.SHOPPER_COUNT
    assert Address.objects.count() == demo.SHOPPER_COUNT
    assert not Address.objects.filter(is_default_shipping=False).exists()
    assert not customers.filter(marketing_consent_at__isnull=True).exists()
    assert customers.filter(accepts_marketing=True).exists()
    assert customers.filter(accepts_marketing=False).exists()
    snapshot = sorted(Customer.objects.values_list("email", "accepts_marketing", "user_id"))

    demo.seed(log=lambda _: None)
    assert Address.objects.count() == demo.SHOPPER_COUNT
    assert sorted(Customer.objects.values_list("email", "accepts_marketing", "user_id")) == snapshot


def test_demo_does_not_confirm_real_sign_ups():
    from tests.factories import ShopperFactory

    real = ShopperFactory(email="someone@gmail.test")
    demo.seed(log=lambda _: None)
    real.refresh_from_db()
    assert real.email_confirmed_at is None
    assert not Customer.objects.filter(user=real).exists()
