from tests.factories.users import ShopperFactory, StaffFactory, UserFactory

__all__ = ["ShopperFactory", "StaffFactory", "UserFactory"]
