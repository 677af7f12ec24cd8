"""Demo stock: two warehouses and a believable spread of stock, received through the ledger.
Idempotent: a variant that already has stock is left alone."""

from __future__ import annotations

import random
from collections.abc import Callable

from catalog.models import Variant
from inventory.models import StockLevel, Supplier, SupplierItem, Warehouse
from inventory.services import availability_push, stock_adjust

WAREHOUSES = [
    ("main", "Main warehouse", "Harbour Road 12, Rotterdam", 0),
    ("east", "East depot", "Industriestrasse 4, Leipzig", 1),
]


def seed(*, log: Callable[[str], object]) -> None:
    houses = [
        Warehouse.objects.get_or_create(
            code=code, defaults={"name": name, "address": address, "priority": priority}
        )[0]
        for code, name, address, priority in WAREHOUSES
    ]
    rng = random.Random(11)  # noqa: S311 - demo quantities
    stocked = set(StockLevel.objects.values_list("variant_id", flat=True))
    received = 0
    for variant in Variant.objects.exclude(pk__in=stocked).order_by("pk"):
        # A row even for what starts out of stock: it marks the variant as seeded.
        StockLevel.objects.get_or_create(variant=variant, warehouse=houses[0])
        # Most things in the main warehouse, some also in the east; a few run low.
        for house, share in zip(houses, (1.0, 0.4), strict=True):
            quantity = rng.choice([0, 2, 5, 12, 24, 40]) if rng.random() < share else 0
            if quantity:
                stock_adjust(
                    variant_id=variant.pk,
                    warehouse=house,
                    delta=quantity,
                    reason="receipt",
                    reference="demo:opening-stock",
                )
                received += 1
        StockLevel.objects.filter(variant=variant).update(
            reorder_point=5, safety_stock=2, reorder_quantity=20, bin_location=f"A-{variant.pk:03d}"
        )
    suppliers = _seed_suppliers()
    availability_push()  # the storefront's "in stock" flags
    log(f"inventory: {len(houses)} warehouses, {received} opening receipts, {suppliers} suppliers")


def _seed_suppliers() -> int:
    """One supplier per vendor, preferred for that vendor's variants, at their cost."""
    vendors = Variant.objects.values_list("product__vendor", flat=True).distinct()
    for vendor in sorted(filter(None, vendors)):
        slug = vendor.lower().replace(" & ", "-").replace(" ", "-")
        supplier, _ = Supplier.objects.get_or_create(
            name=vendor,
            defaults={
                "contact_name": "Sales desk",
                "email": f"orders@{slug}.example",
                "lead_time_days": 10,
                "payment_terms": "30 days net",
            },
        )
        for variant in Variant.objects.filter(product__vendor=vendor):
            SupplierItem.objects.get_or_create(
                supplier=supplier,
                variant=variant,
                defaults={
                    "supplier_sku": f"{slug[:4].upper()}-{variant.sku}",
                    "unit_cost": variant.cost if variant.cost is not None else variant.price / 2,
                    "is_preferred": True,
                },
            )
    return Supplier.objects.count()
