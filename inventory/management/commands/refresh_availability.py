from django.core.management.base import BaseCommand

from inventory.services import availability_push


class Command(BaseCommand):
    help = "Recompute every variant's in-stock flag in the catalog (after imports or repairs)."

    def handle(self, *args: object, **options: object) -> None:
        changed = availability_push()
        self.stdout.write(f"{changed} variant{'s' if changed != 1 else ''} changed.")
