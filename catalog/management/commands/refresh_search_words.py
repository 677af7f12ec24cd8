from django.core.management.base import BaseCommand

from catalog.search import search_words_refresh


class Command(BaseCommand):
    help = "Rebuild the vocabulary that corrects typos in searches (PostgreSQL; beat runs it)."

    def handle(self, *args: object, **options: object) -> None:
        if search_words_refresh():
            self.stdout.write(self.style.SUCCESS("Search vocabulary rebuilt."))
        else:
            self.stdout.write("Nothing to do: typo correction needs PostgreSQL.")
