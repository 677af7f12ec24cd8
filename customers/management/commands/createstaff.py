from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from customers.roles import ROLES
from customers.services import StaffError, staff_create


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
        try:
            user, one_time = staff_create(
                email=options["email"], role=options["role"], full_name=options["name"]
            )
        except StaffError as err:
            raise CommandError(str(err)) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} as {options['role']}."))
        if options["reset_link"]:
            user.set_unusable_password()
            user.password_change_required = False
            user.save(update_fields=["password", "password_change_required"])
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            path = reverse("customers:staff-password-reset-confirm", args=[uid, token])
            hours = settings.PASSWORD_RESET_TIMEOUT // 3600
            self.stdout.write(f"Choose a password within {hours} hours: {settings.SITE_URL}{path}")
        else:
            self.stdout.write(f"One-time password: {one_time}")
            self.stdout.write("It must be changed at the first sign-in.")
