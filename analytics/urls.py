from django.urls import path

from analytics.views import staff

app_name = "analytics"

urlpatterns = [
    path("dashboard/", staff.home, name="staff-home"),
    path("dashboard/analytics/", staff.index, name="staff-index"),
    path("dashboard/analytics/export/<slug:table>.csv", staff.export, name="staff-export"),
]
