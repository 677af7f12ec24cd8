"""Demo staff (one per role) and shoppers with accounts. Idempotent."""

from __future__ import annotations

import random
from collections.abc import Callable

from django.contrib.auth.hashers import make_password

from customers.models import User
from customers.services import roles_sync, staff_create

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
    log(f"customers: {len(DEMO_STAFF)} staff, {SHOPPER_COUNT} shoppers ({len(new_shoppers)} new)")


def banner() -> list[str]:
    owner = DEMO_STAFF[0][0]
    if not User.objects.filter(email=owner, is_staff=True).exists():
        return []
    return [
        f"Demo staff:  {owner} / {DEMO_STAFF_PASSWORD}",
        "             (also manager@, warehouse@, support@ and marketing@example.com)",
    ]
