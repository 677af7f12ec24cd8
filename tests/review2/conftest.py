"""Fixtures borrowed from fulfillment's tests (a warehouse, carriers, stock, paid orders)."""

from tests.fulfillment.conftest import carrier, make_order, method, shelf, warehouse  # noqa: F401
