from django.urls import path

from inventory.views import staff

app_name = "inventory"

urlpatterns = [
    path("dashboard/inventory/", staff.index, name="staff-index"),
    path("dashboard/inventory/stock/", staff.stock_list, name="staff-stock"),
    path(
        "dashboard/inventory/variants/<int:variant_pk>/", staff.variant_stock, name="staff-variant"
    ),
    path("dashboard/inventory/alerts/", staff.alerts, name="staff-alerts"),
]
