"""Email shoppers whose parcel is past its promised day (beat runs it hourly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fulfillment.services import shipment_delays_notify


class Command(BaseCommand):
    help = "Send the delay notice for parcels past their promised date, once per parcel."

    def handle(self, *args: object, **options: object) -> None:
        count = shipment_delays_notify()
        self.stdout.write(f"{count} late parcel(s) without a delay notice yet.")
