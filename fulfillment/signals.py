"""Fulfillment listens to orders (orders does not know fulfillment exists): a refund that
fails after a return was settled with it puts the return back to received."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import Refund


@receiver(post_save, sender=Refund, dispatch_uid="fulfillment_return_refund_failed")
def refund_saved(sender, instance: Refund, created: bool, update_fields=None, **kwargs) -> None:
    if created or instance.status != Refund.Status.FAILED:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    from fulfillment.returns import return_refund_failed

    return_refund_failed(refund=instance)
