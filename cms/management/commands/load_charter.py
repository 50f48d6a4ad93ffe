from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cms.charter_loading import CharterFileError, load_charter
from cms.models import ServiceNorm


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Load a charter YAML file (cms/charters/README.md): idempotent, all or nothing; what editors changed in the CMS is kept unless --force."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--retire-missing", action="store_true", help="Retire active norms that the file no longer lists.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change and write nothing.")
        parser.add_argument("--force", action="store_true", help="Also overwrite norms, settings and texts that editors changed in the CMS.")
        parser.add_argument("--if-empty", action="store_true", help="Load only into a database without norms (what `make run` does).")

    def handle(self, *args, file: Path, retire_missing: bool, dry_run: bool, force: bool, if_empty: bool, **options):
        if if_empty and ServiceNorm.objects.exists():
            self.stdout.write(f"{file}: not loaded, this database has a charter already (editors' work is kept).")
            return
        try:
            with transaction.atomic():
                report = load_charter(path=file, retire_missing=retire_missing, force=force)
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
        if report.kept:
            self.stdout.write(self.style.WARNING("changed in the CMS, kept (use --force to overwrite with the file):"))
            for item in report.kept:
                self.stdout.write(f"  {item}")
        self.stdout.write(self.style.SUCCESS(f"{file}: {len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged"))
