from django.urls import path

from inventory.views import staff

app_name = "inventory"

urlpatterns = [
    path("dashboard/inventory/", staff.index, name="staff-index"),
]
