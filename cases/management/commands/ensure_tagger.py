from django.core.management.base import BaseCommand, CommandError

from cases.models import TaggerModel
from cases.tagging import NoNormsToTag, tagger_active


class Command(BaseCommand):
    help = "Make sure a tagger model is trained, cached and active (`make run` calls this before serving)."

    def handle(self, *args, **options):
        if not TaggerModel.objects.filter(active=True).exists():
            self.stdout.write("No active tagger yet: training one from the shipped corpus (cached in HANDVEST_MODEL_DIR)…")
        try:
            tagger = tagger_active()
        except NoNormsToTag as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"tagger {tagger.version[:12]} is active"))
