from __future__ import annotations

import factory

from customers.models import Address, Customer, CustomerTag


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"buyer{n}@example.org")
    full_name = factory.Faker("name")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    full_name = factory.Faker("name")
    line1 = factory.Sequence(lambda n: f"{n} Harbour Street")
    city = "Rotterdam"
    postal_code = "3011 AA"
    country = "NL"


class CustomerTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerTag

    name = factory.Sequence(lambda n: f"tag{n}")
