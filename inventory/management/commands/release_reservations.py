from django.core.management.base import BaseCommand

from inventory.services import reservations_release_expired


class Command(BaseCommand):
    help = "Release expired cart reservations (beat runs this every minute)."

    def handle(self, *args: object, **options: object) -> None:
        released = reservations_release_expired()
        self.stdout.write(f"Released {released} expired reservation{'s' if released != 1 else ''}.")
