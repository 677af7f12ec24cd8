"""Show or rotate the token a carrier's tracking webhook authenticates with."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from fulfillment.models import Carrier, _webhook_token


class Command(BaseCommand):
    help = "Print a carrier's tracking-webhook URL and token (--rotate makes a new token)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="Carrier code, e.g. parcelpost")
        parser.add_argument("--rotate", action="store_true", help="Replace the token")
        parser.add_argument(
            "--auth", choices=Carrier.WebhookAuth.values, help="How the carrier proves itself"
        )

    def handle(self, *args: object, **options: object) -> None:
        carrier = Carrier.objects.filter(code=options["code"]).first()
        if carrier is None:
            codes = ", ".join(Carrier.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"No carrier {options['code']!r}; there are: {codes}.")
        fields = []
        if options["rotate"]:
            carrier.webhook_token = _webhook_token()
            fields.append("webhook_token")
        if options["auth"]:
            carrier.webhook_auth = options["auth"]
            fields.append("webhook_auth")
        if fields:
            carrier.save(update_fields=fields)
        url = settings.SITE_URL + reverse("fulfillment:tracking-webhook", args=[carrier.code])
        self.stdout.write(f"URL:   {url}")
        self.stdout.write(f"Auth:  {carrier.get_webhook_auth_display()}")
        self.stdout.write(f"Token: {carrier.webhook_token}")
