from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cms.charter_loading import CharterFileError, load_charter


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Load a charter YAML file (cms/charters/README.md): idempotent, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--retire-missing", action="store_true", help="Retire active norms that the file no longer lists.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change and write nothing.")

    def handle(self, *args, file: Path, retire_missing: bool, dry_run: bool, **options):
        try:
            with transaction.atomic():
                report = load_charter(path=file, retire_missing=retire_missing)
                if dry_run:
                    raise _DryRun
        except CharterFileError as exc:
            raise CommandError(str(exc)) from exc
        except _DryRun:
            self.stdout.write("Dry run: nothing written.")
        for label, codes in (("created", report.created), ("updated", report.updated), ("retired", report.retired)):
            if codes:
                self.stdout.write(f"{label}: {', '.join(codes)}")
        if report.missing and not retire_missing:
            self.stdout.write(self.style.WARNING(f"not in the file (still active, use --retire-missing to retire): {', '.join(report.missing)}"))
        self.stdout.write(self.style.SUCCESS(f"{file}: {len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged"))
