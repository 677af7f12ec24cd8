from django.db import models


class InventoryAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the inventory dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_inventory", "Can open the inventory dashboard")]
