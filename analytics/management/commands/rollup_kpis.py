"""Roll days into the KPI tables by hand: a backfill, or the nightly job run early."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from analytics.services import RollupError, kpis_roll_up, kpis_roll_up_due

CHUNK_DAYS = 31
BAR_WIDTH = 30


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from error


class Command(BaseCommand):
    help = (
        "Roll the store days --from .. --to (inclusive) into the daily KPI tables; safe to "
        "re-run. Without dates: what the nightly job does (yesterday and any missing day)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: --from)")

    def handle(self, *args, first=None, last=None, **options) -> None:
        if first is None and last is not None:
            raise CommandError("--to needs --from.")
        if first is None:
            days = kpis_roll_up_due()
            self.stdout.write(f"Rolled up {len(days)} day(s) due.")
            return
        start, end = _date(first), _date(last or first)
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}.")
        total = (end - start).days + 1
        done = 0
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS - 1), end)
            try:
                done += kpis_roll_up(first=chunk_start, last=chunk_end)
            except RollupError as error:
                raise CommandError(str(error)) from error
            filled = BAR_WIDTH * done // total
            self.stdout.write(
                f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} days (to {chunk_end})"
            )
            chunk_start = chunk_end + timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(f"Rolled up {total} day(s): {start} to {end}."))
