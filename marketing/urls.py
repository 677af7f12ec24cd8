from django.urls import path

from marketing.views import staff

app_name = "marketing"

urlpatterns = [
    path("dashboard/marketing/", staff.index, name="staff-index"),
]
