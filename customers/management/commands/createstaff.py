from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.roles import ROLES
from customers.selectors import staff_password_reset_url
from customers.services import StaffError, staff_create, staff_invite


class Command(BaseCommand):
    help = "Create a staff member with a role; prints a one-time password or a reset link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=list(ROLES))
        parser.add_argument("--name", default="", help="Full name shown in the dashboard.")
        parser.add_argument(
            "--reset-link",
            action="store_true",
            help="Print a link to choose a password instead of a one-time password.",
        )

    def handle(self, *args: object, **options: object) -> None:
        email, role, name = options["email"], options["role"], options["name"]
        try:
            if options["reset_link"]:
                user, one_time = staff_invite(email=email, role=role, full_name=name), None
            else:
                user, one_time = staff_create(email=email, role=role, full_name=name)
        except StaffError as err:
            raise CommandError(str(err)) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} as {role}."))
        if one_time is None:
            hours = settings.PASSWORD_RESET_TIMEOUT // 3600
            url = staff_password_reset_url(user=user)
            self.stdout.write(f"Choose a password within {hours} hours: {url}")
            self.stdout.write("An expired link can be renewed with 'Forgot your password?'.")
        else:
            self.stdout.write(f"One-time password: {one_time}")
            self.stdout.write("It must be changed at the first sign-in.")
