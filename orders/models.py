from django.db import models


class OrdersAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the orders dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_orders", "Can open the orders dashboard")]
