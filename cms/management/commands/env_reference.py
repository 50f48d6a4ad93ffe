import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from config.env import reference_markdown

START, END = "<!-- env-reference:start -->", "<!-- env-reference:end -->"


class Command(BaseCommand):
    help = "Print the configuration table (every environment variable, its default and meaning) as Markdown; --update-readme writes it into README.md."

    def add_arguments(self, parser):
        parser.add_argument("--update-readme", action="store_true")

    def handle(self, *args, update_readme: bool, **options):
        # Defaults that contain this checkout's path are shown relative to it.
        table = reference_markdown().replace(str(settings.BASE_DIR) + "/", "./")
        if not update_readme:
            self.stdout.write(table)
            return
        readme = Path(settings.BASE_DIR) / "README.md"
        text = readme.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
        readme.write_text(pattern.sub(lambda _: f"{START}\n{table}\n{END}", text), encoding="utf-8")
        self.stdout.write("README.md configuration table updated")
