"""The shopper's side of orders: the cart, checkout, and the order pages (a package since
it passed 500 lines; orders/urls.py refers to the views through this module)."""

from orders.views.storefront.cart import (
    cart,
    cart_acknowledge,
    cart_add_view,
    cart_count,
    cart_line,
    cart_remove,
    cart_voucher,
    cart_voucher_remove_view,
)
from orders.views.storefront.checkout import checkout, checkout_place
from orders.views.storefront.orders import account_order, account_orders, order_status

__all__ = [
    "account_order",
    "account_orders",
    "cart",
    "cart_acknowledge",
    "cart_add_view",
    "cart_count",
    "cart_line",
    "cart_remove",
    "cart_voucher",
    "cart_voucher_remove_view",
    "checkout",
    "checkout_place",
    "order_status",
]
