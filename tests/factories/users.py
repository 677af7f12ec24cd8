from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from customers.models import User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class ShopperFactory(UserFactory):
    email = factory.Sequence(lambda n: f"shopper{n}@example.net")


class StaffFactory(UserFactory):
    """A staff member; `role="Manager"` puts them in that group (run roles_sync first)."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
