from __future__ import annotations

import factory

from inventory.models import Warehouse
from inventory.services import stock_adjust


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"wh{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


def stock(variant, warehouse, quantity: int):
    """Receive `quantity` through the service, so the ledger agrees with the counters."""
    return stock_adjust(
        variant_id=variant.pk, warehouse=warehouse, delta=quantity, reason="receipt"
    ).stock
