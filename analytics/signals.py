"""Orders placed during a tracked visit are credited to it (analytics listens; orders does
not know analytics exists)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import Order


@receiver(post_save, sender=Order, dispatch_uid="analytics_order_attribution")
def order_saved(sender, instance: Order, created: bool, **kwargs) -> None:
    if created:
        from analytics.middleware import current_page_view
        from analytics.services import order_placed_in_visit

        if current_page_view.get() is not None:
            order_id = instance.pk
            transaction.on_commit(lambda: order_placed_in_visit(order_id=order_id))
