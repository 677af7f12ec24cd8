from django.urls import path

from fulfillment.views import staff

app_name = "fulfillment"

urlpatterns = [
    path("dashboard/fulfillment/", staff.index, name="staff-index"),
]
