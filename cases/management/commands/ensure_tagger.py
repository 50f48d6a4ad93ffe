from django.core.management.base import BaseCommand, CommandError

from cases.models import TaggerModel
from cases.tagging import NoNormsToTag, cases_waiting_for_tags, tag_waiting_cases, tagger_active


class Command(BaseCommand):
    help = (
        "Make sure a tagger model is trained, cached and active; with --tag-waiting, then tag the open cases that arrived "
        "while there was none (`make run` runs this in the background while it serves)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tag-waiting", action="store_true", help="afterwards, tag the open cases the tagger never looked at")

    def handle(self, *args, **options):
        if not TaggerModel.objects.filter(active=True).exists():
            self.stdout.write("No active tagger yet: training one from the shipped corpus (cached in HANDVEST_MODEL_DIR)…")
        try:
            tagger = tagger_active()
        except NoNormsToTag as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"tagger {tagger.version[:12]} is active"))
        active = TaggerModel.objects.filter(active=True).only("scores").first()
        for warning in (active.scores.get("warnings", []) if active else []):
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        if options["tag_waiting"]:
            waiting = cases_waiting_for_tags().count()
            if waiting:
                self.stdout.write(f"tagging {waiting} case(s) that arrived while the tagger was being trained…")
            done = tag_waiting_cases(progress=lambda done, total: self.stdout.write(f"  {done}/{total}") if done % 25 == 0 or done == total else None)
            self.stdout.write(self.style.SUCCESS(f"{done} waiting case(s) tagged"))
