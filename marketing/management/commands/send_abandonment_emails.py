from django.core.management.base import BaseCommand

from marketing.abandonment import abandonment_send_due


class Command(BaseCommand):
    help = "Send the cart-abandonment emails that are due (beat runs this every 15 minutes)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the emails to the workers instead of sending them from here.",
        )

    def handle(self, *args: object, **options: object) -> None:
        claims = abandonment_send_due(inline=not options["enqueue"])
        verb = "queued" if options["enqueue"] else "handled"
        self.stdout.write(f"{len(claims)} abandonment email(s) {verb}.")
