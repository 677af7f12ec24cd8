"""Each app's urls.py holds its storefront paths and its /dashboard/<app>/ paths."""

from django.conf import settings
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("analytics.urls")),
    path("", include("marketing.urls")),
    path("", include("fulfillment.urls")),
    path("", include("orders.urls")),
    path("", include("inventory.urls")),
    path("", include("customers.urls")),
    path("", include("catalog.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
