from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.channels import channel_sales_import
from inventory.models import SalesChannel


class Command(BaseCommand):
    help = "Record sales made on another channel (CSV: sku, quantity, reference); all or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel", help="The channel's name, as in create_channel.")
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, **options: object) -> None:
        channel = SalesChannel.objects.filter(name__iexact=options["channel"]).first()
        if channel is None:
            raise CommandError(f"There is no channel called {options['channel']}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        rows, errors = channel_sales_import(channel=channel, data=path.read_bytes())
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError(f"{len(errors)} errors; nothing was recorded.")
        self.stdout.write(self.style.SUCCESS(f"{rows} sales recorded from {channel.name}."))
