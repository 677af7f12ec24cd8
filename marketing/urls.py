from django.urls import path

from marketing.views import staff, storefront

app_name = "marketing"

urlpatterns = [
    path("cart/recover/<str:token>/", storefront.cart_recover, name="cart-recover"),
    path("unsubscribe/<str:token>/", storefront.unsubscribe, name="unsubscribe"),
    path("email/open/<str:token>.gif", storefront.email_open, name="email-open"),
    path("dashboard/marketing/", staff.index, name="staff-index"),
    path(
        "dashboard/marketing/abandonment/",
        staff.sequence_update,
        name="staff-abandonment-update",
    ),
]
