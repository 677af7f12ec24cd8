from django.db import models


class MarketingAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the marketing dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_marketing", "Can open the marketing dashboard")]
