"""Orders URLs, in sections by the module that serves them. Add a URL to its own section."""

from django.urls import path

from orders.views import payment, staff, staff_settings, storefront, webhooks

app_name = "orders"

urlpatterns = [
    # --- Storefront: cart, checkout, order pages (orders/views/storefront.py) ---------------
    path("cart/", storefront.cart, name="cart"),
    path("cart/add/", storefront.cart_add_view, name="cart-add"),
    path("cart/count/", storefront.cart_count, name="cart-count"),
    path("cart/lines/<int:variant_id>/", storefront.cart_line, name="cart-line"),
    path("cart/lines/<int:variant_id>/remove/", storefront.cart_remove, name="cart-remove"),
    path("cart/voucher/", storefront.cart_voucher, name="cart-voucher"),
    path("cart/voucher/remove/", storefront.cart_voucher_remove_view, name="cart-voucher-remove"),
    path("cart/acknowledge/", storefront.cart_acknowledge, name="cart-acknowledge"),
    path("checkout/", storefront.checkout, name="checkout"),
    path("checkout/place/", storefront.checkout_place, name="checkout-place"),
    path("order/<str:token>/", storefront.order_status, name="order-status"),
    path("account/orders/", storefront.account_orders, name="account-orders"),
    path("account/orders/<str:number>/", storefront.account_order, name="account-order"),
    # --- end of storefront section ---
    #
    # --- Payments: paying an order, provider webhooks (payment.py, webhooks.py) ------------
    path("order/<str:token>/pay/", payment.pay, name="pay"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
    # --- end of payments section ---
    #
    # --- Staff dashboard (orders/views/staff.py and staff_*.py) -----------------------------
    path("dashboard/orders/", staff.index, name="staff-index"),
    path("dashboard/orders/settings/", staff_settings.index, name="staff-settings"),
    path(
        "dashboard/orders/settings/shipping/",
        staff_settings.shipping,
        name="staff-shipping",
    ),
    path(
        "dashboard/orders/settings/shipping/zones/<int:pk>/",
        staff_settings.zone_edit,
        name="staff-zone",
    ),
    path(
        "dashboard/orders/settings/shipping/methods/<int:pk>/",
        staff_settings.method_edit,
        name="staff-method",
    ),
    path("dashboard/orders/settings/taxes/", staff_settings.taxes, name="staff-taxes"),
    path("dashboard/orders/settings/taxes/<int:pk>/", staff_settings.tax_edit, name="staff-tax"),
    path("dashboard/orders/settings/vouchers/", staff_settings.vouchers, name="staff-vouchers"),
    path(
        "dashboard/orders/settings/vouchers/new/",
        staff_settings.voucher_edit,
        name="staff-voucher-new",
    ),
    path(
        "dashboard/orders/settings/vouchers/<int:pk>/",
        staff_settings.voucher_edit,
        name="staff-voucher",
    ),
    path("dashboard/orders/<str:number>/", staff.detail, name="staff-detail"),
    path("dashboard/orders/<str:number>/mark-paid/", staff.mark_paid, name="staff-mark-paid"),
    path("dashboard/orders/<str:number>/cancel/", staff.cancel, name="staff-cancel"),
    path("dashboard/orders/<str:number>/hold/", staff.hold, name="staff-hold"),
    path("dashboard/orders/<str:number>/release/", staff.release, name="staff-release"),
    path("dashboard/orders/<str:number>/note/", staff.note, name="staff-note"),
    path("dashboard/orders/<str:number>/refund/", staff.refund, name="staff-refund"),
    # --- end of staff section ---
]
