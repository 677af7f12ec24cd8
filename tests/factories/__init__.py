from tests.factories.catalog import CategoryFactory, ProductFactory, VariantFactory
from tests.factories.users import ShopperFactory, StaffFactory, UserFactory

__all__ = [
    "CategoryFactory",
    "ProductFactory",
    "ShopperFactory",
    "StaffFactory",
    "UserFactory",
    "VariantFactory",
]
