"""Load the demo store: every app's demo.seed (config/seeding.py). Idempotent."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from config.seeding import demo_modules


class Command(BaseCommand):
    help = "Load a believable demo store (staff, shoppers, and whatever each app seeds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off (creates accounts with published passwords).",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: demo accounts have published passwords. "
                "Pass --allow-production if this really is a demo server."
            )
        for module in demo_modules():
            with transaction.atomic():
                module.seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
