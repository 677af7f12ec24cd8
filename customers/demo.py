"""Demo staff (one per role) and shoppers with accounts. Idempotent."""

from __future__ import annotations

import random
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from customers.models import User
from customers.records import customer_consent_set, customer_for_email
from customers.services import address_save, roles_sync, staff_create

DEMO_STAFF_PASSWORD = "demo-staff-password"  # noqa: S105 - published on purpose, DEBUG only
DEMO_SHOPPER_PASSWORD = "demo-shopper"  # noqa: S105

DEMO_STAFF = [
    ("owner@example.com", "Maya Lindqvist", "Owner"),
    ("manager@example.com", "Tom Okafor", "Manager"),
    ("warehouse@example.com", "Ines Duarte", "Warehouse"),
    ("support@example.com", "Sam Patel", "Support"),
    ("marketing@example.com", "Lena Fischer", "Marketing"),
]

FIRST = [
    "Ava",
    "Noah",
    "Mia",
    "Liam",
    "Zoe",
    "Omar",
    "Hana",
    "Luca",
    "Emma",
    "Kofi",
    "Yuki",
    "Sofia",
    "Mateo",
    "Aisha",
    "Jonas",
    "Chloe",
    "Ravi",
    "Elena",
    "Felix",
    "Nora",
]
LAST = [
    "Jensen",
    "Moreau",
    "Kowalski",
    "Nakamura",
    "Haddad",
    "Silva",
    "Brennan",
    "Rossi",
    "Novak",
    "Mensah",
    "Larsen",
    "Costa",
    "Weber",
    "Ahmed",
    "Dubois",
    "Park",
]
SHOPPER_COUNT = 40


def seed(*, log: Callable[[str], object]) -> None:
    roles_sync()
    for email, name, role in DEMO_STAFF:
        if not User.objects.filter(email=email).exists():
            staff_create(email=email, role=role, full_name=name, password=DEMO_STAFF_PASSWORD)

    rng = random.Random(20261122)  # noqa: S311 - demo names, not secrets
    existing = set(User.objects.filter(is_staff=False).values_list("email", flat=True))
    password = make_password(DEMO_SHOPPER_PASSWORD)  # one hash: Argon2 is slow on purpose
    new_shoppers = []
    for index in range(SHOPPER_COUNT):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{index}@example.net".lower()
        if email not in existing:
            new_shoppers.append(User(email=email, full_name=f"{first} {last}", password=password))
    User.objects.bulk_create(new_shoppers)
    records = _shopper_records(rng)
    log(
        f"customers: {len(DEMO_STAFF)} staff, {SHOPPER_COUNT} shoppers ({len(new_shoppers)} new), "
        f"{records} new customer records with an address"
    )


DEMO_CITIES = [
    ("DE", "Berlin", "10115", "Invalidenstraße"),
    ("NL", "Amsterdam", "1012 AB", "Damrak"),
    ("FR", "Lyon", "69002", "Rue de la République"),
    ("IT", "Bologna", "40121", "Via dell'Indipendenza"),
    ("DK", "Aarhus", "8000", "Søndergade"),
    ("GB", "Bristol", "BS1 4DJ", "Park Street"),
]


def _shopper_records(rng: random.Random) -> int:
    """Demo shoppers have confirmed their email, so each owns a customer record with an
    address and a consent choice. Shoppers that already have a record are left alone."""
    shoppers = User.objects.filter(
        is_staff=False, customer__isnull=True, email__endswith="@example.net"
    )
    made = 0
    for user in shoppers.order_by("pk"):
        with transaction.atomic():
            if user.email_confirmed_at is None:
                user.email_confirmed_at = timezone.now()
                user.save(update_fields=["email_confirmed_at"])
            customer = customer_for_email(email=user.email, full_name=user.full_name, user=user)
            country, city, postal_code, street = rng.choice(DEMO_CITIES)
            if not customer.addresses.exists():
                address_save(
                    customer=customer,
                    data={
                        "full_name": user.full_name,
                        "line1": f"{street} {rng.randint(1, 120)}",
                        "city": city,
                        "postal_code": postal_code,
                        "country": country,
                    },
                )
            if customer.marketing_consent_at is None:
                source = rng.choice(["signup", "checkout", "account"])
                customer_consent_set(customer=customer, accepts=rng.random() < 0.6, source=source)
        made += 1
    return made


def banner() -> list[str]:
    owner = DEMO_STAFF[0][0]
    if not User.objects.filter(email=owner, is_staff=True).exists():
        return []
    return [
        f"Demo staff:  {owner} / {DEMO_STAFF_PASSWORD}",
        "             (also manager@, warehouse@, support@ and marketing@example.com)",
    ]
