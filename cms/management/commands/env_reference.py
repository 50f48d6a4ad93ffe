from django.core.management.base import BaseCommand

from config.env import reference_markdown


class Command(BaseCommand):
    help = "Print the configuration table (every environment variable, its default and meaning) as Markdown."

    def handle(self, *args, **options):
        self.stdout.write(reference_markdown())
