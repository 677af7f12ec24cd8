"""Fixtures borrowed from fulfillment's tests (a warehouse, carriers, stock, paid orders)."""

from tests.fakes.stripe_orders import stripe_order_fixture  # noqa: F401
from tests.fakes.stripe_server import stripe_fake_fixture  # noqa: F401
from tests.fulfillment.conftest import carrier, make_order, method, shelf, warehouse  # noqa: F401
