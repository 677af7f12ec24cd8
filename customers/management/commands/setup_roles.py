from django.core.management.base import BaseCommand

from customers.roles import ROLE_DESCRIPTIONS
from customers.services import roles_sync


class Command(BaseCommand):
    help = "Create the staff roles (Owner, Manager, Warehouse, Support, Marketing); idempotent."

    def handle(self, *args: object, **options: object) -> None:
        counts = roles_sync()
        for role, count in counts.items():
            self.stdout.write(f"{role:<10} {count:>3} permissions  {ROLE_DESCRIPTIONS[role]}")
        self.stdout.write(self.style.SUCCESS(f"{len(counts)} roles are up to date."))
