from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.channels import channel_create
from inventory.services import InventoryError


class Command(BaseCommand):
    help = "Add a sales channel; prints its feed token (once) and webhook secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--webhook-url", default="", help="Where to POST availability changes.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            channel, token = channel_create(
                name=options["name"], webhook_url=options["webhook_url"]
            )
        except InventoryError as err:
            raise CommandError(str(err)) from None
        self.stdout.write(self.style.SUCCESS(f"Channel {channel.name} created."))
        self.stdout.write(f"Feed: GET /api/stock/ with  Authorization: Bearer {token}")
        self.stdout.write("The token is shown only now.")
        if channel.webhook_secret:
            self.stdout.write(f"Webhook signing secret: {channel.webhook_secret}")
