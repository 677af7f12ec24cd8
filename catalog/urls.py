from django.urls import path

from catalog.views import staff, staff_taxonomy, storefront

app_name = "catalog"

urlpatterns = [
    path("", storefront.home, name="home"),
    path("search/", storefront.search, name="search"),
    path("categories/<slug:slug>/", storefront.category_detail, name="category"),
    path("collections/<slug:slug>/", storefront.collection_detail, name="collection"),
    path("products/<slug:slug>/", storefront.product_detail, name="product"),
    path("sitemap.xml", storefront.sitemap, name="sitemap"),
    path("robots.txt", storefront.robots, name="robots"),
    path("dashboard/catalog/", staff.index, name="staff-index"),
]

# Categories and collections in the dashboard: /dashboard/catalog/categories/, .../collections/
urlpatterns += staff_taxonomy.urlpatterns
