from django.db import models


class AnalyticsAccess(models.Model):  # noqa: DJ008 - never instantiated
    """Anchors the permission to open the analytics dashboard; no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access_analytics", "Can open the analytics dashboard")]
