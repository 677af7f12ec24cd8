from django.urls import path

from orders.views import staff, storefront

app_name = "orders"

urlpatterns = [
    path("cart/", storefront.cart, name="cart"),
    path("dashboard/orders/", staff.index, name="staff-index"),
]
