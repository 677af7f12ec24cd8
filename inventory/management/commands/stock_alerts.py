from django.core.management.base import BaseCommand

from inventory.alerts import stock_alerts_check, stock_alerts_notify


class Command(BaseCommand):
    help = "Open and close low-stock alerts and email the digest of new ones (beat: 15 min)."

    def handle(self, *args: object, **options: object) -> None:
        opened, resolved = stock_alerts_check()
        listed = stock_alerts_notify()
        self.stdout.write(f"{opened} opened, {resolved} resolved, {listed} in the digest.")
