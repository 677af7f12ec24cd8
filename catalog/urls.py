from django.urls import path

from catalog.views import staff, storefront

app_name = "catalog"

urlpatterns = [
    path("", storefront.home, name="home"),
    path("search/", storefront.search, name="search"),
    path("dashboard/catalog/", staff.index, name="staff-index"),
]
