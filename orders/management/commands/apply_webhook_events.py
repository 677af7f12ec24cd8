from django.core.management.base import BaseCommand, CommandParser

from orders.models import WebhookEvent
from orders.webhooks import webhook_event_apply


class Command(BaseCommand):
    help = (
        "Apply stored payment webhook events that no worker applied yet (a task that gave up, "
        "a worker that was down). Safe to re-run: an applied event is skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="At most this many events.")

    def handle(self, *args: object, **options: object) -> None:
        pending = WebhookEvent.objects.filter(processed_at__isnull=True).order_by(
            "received_at", "pk"
        )
        applied = failed = 0
        for event_id in pending.values_list("pk", flat=True)[: options["limit"]]:
            event = webhook_event_apply(event_id=event_id)
            if event.error:
                failed += 1
                self.stderr.write(f"{event.type} {event.event_id}: {event.error}")
            else:
                applied += 1
        self.stdout.write(f"{applied} events applied, {failed} with a problem.")
