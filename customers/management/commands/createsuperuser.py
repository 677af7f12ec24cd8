"""Replaces Django's createsuperuser: staff are created with a role (createstaff).

A superuser would bypass roles, and Django's command validates the password against a
stand-in user that is not staff, so the 12-character staff rule would not apply.
"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used here: run `createstaff EMAIL --role Owner` instead."

    def add_arguments(self, parser) -> None:
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")
        parser.add_argument("--email")
        parser.add_argument("--database")

    def handle(self, *args: object, **options: object) -> None:
        raise CommandError(
            "Staff are created with a role: python manage.py createstaff EMAIL --role Owner"
        )
