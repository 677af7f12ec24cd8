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
    path("dashboard/catalog/products/", staff.product_list, name="staff-products"),
    path("dashboard/catalog/products/bulk/", staff.product_bulk, name="staff-products-bulk"),
    path("dashboard/catalog/products/new/", staff.product_new, name="staff-product-new"),
    path("dashboard/catalog/products/export.csv", staff.product_export, name="staff-export"),
    path("dashboard/catalog/imports/", staff.product_imports, name="staff-imports"),
    path("dashboard/catalog/imports/<int:pk>/", staff.product_import_detail, name="staff-import"),
    path("dashboard/catalog/products/<int:pk>/", staff.product_edit, name="staff-product"),
    path(
        "dashboard/catalog/products/<int:pk>/status/",
        staff.product_status,
        name="staff-product-status",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/duplicate/",
        staff.product_duplicate_view,
        name="staff-product-duplicate",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/options/",
        staff.product_option_save,
        name="staff-product-option",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/variants/",
        staff.product_variant_save,
        name="staff-product-variant-add",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/variants/<int:variant_pk>/",
        staff.product_variant_save,
        name="staff-product-variant",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/variants/<int:variant_pk>/delete/",
        staff.product_variant_delete,
        name="staff-product-variant-delete",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/images/",
        staff.product_image_upload,
        name="staff-product-image-add",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/images/<int:image_pk>/move/",
        staff.product_image_move,
        name="staff-product-image-move",
    ),
    path(
        "dashboard/catalog/products/<int:pk>/images/<int:image_pk>/delete/",
        staff.product_image_delete,
        name="staff-product-image-delete",
    ),
]

# Categories and collections in the dashboard: /dashboard/catalog/categories/, .../collections/
urlpatterns += staff_taxonomy.urlpatterns
