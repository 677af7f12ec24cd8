from django.db import models


class CatalogAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the catalog dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_catalog", "Can open the catalog dashboard")]
