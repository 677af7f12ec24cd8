from django.db import models


class FulfillmentAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the fulfillment dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_fulfillment", "Can open the fulfillment dashboard")]
