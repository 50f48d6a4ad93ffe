"""``manage.py import_measurements FILE.csv [--source NAME]``: import measurements of the norms.

Rows ``norm,observed_at,value`` (observations in the norm's unit) or
``norm,period_start,period_end,observations,within_target`` (totals per period); see
``cases.measurements.importing``. Importing the same file again changes nothing. A file with a
bad line is refused whole: every bad line is printed with its number and reason, nothing is
stored, and the command exits with status 1. A progress bar goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.measurements.importing import MeasurementFileRefused, measurements_import
from cases.models import MeasurementSource

FILE_NOT_FOUND = "Bestand bestaat niet: {path}"
REFUSED = "Het bestand is geweigerd; er is niets geïmporteerd."
DONE = "{rows} regels gelezen: {added} nieuw, {updated} bijgewerkt, {unchanged} waren er al."
DONE_REPLACED = " {replaced} eerder ingelezen totalen vervangen door de langere totalen uit dit bestand."


def _line_count(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


class Command(BaseCommand):
    help = "Import measurements of the norms from a CSV file (observations, or totals per period); all or nothing, idempotent."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.csv")
        parser.add_argument("--source", choices=MeasurementSource.values, default=MeasurementSource.OTHER, help="Where the measurements come from.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args, file: Path, source: str, no_progress: bool, verbosity: int, **options):
        if not file.is_file():
            raise CommandError(FILE_NOT_FOUND.format(path=file))
        # tqdm redraws with carriage returns, so it writes to the raw stream behind Django's OutputWrapper.
        bar = tqdm(
            total=_line_count(file),
            desc=file.name,
            unit="regel",
            unit_scale=True,
            file=getattr(self.stderr, "_out", sys.stderr),
            disable=no_progress or verbosity == 0,
            dynamic_ncols=True,
        )

        def progress(rows: int, stage: str) -> None:
            bar.set_postfix_str(stage, refresh=False)
            bar.update(rows)

        try:
            with file.open("rb") as stream:
                result = measurements_import(stream=stream, file_name=file.name, source=source, progress=progress)
        except MeasurementFileRefused as exc:
            bar.close()
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(REFUSED) from exc
        except ValueError as exc:
            bar.close()
            raise CommandError(str(exc)) from exc
        bar.update(max(bar.total - bar.n, 0))
        bar.close()
        replaced = DONE_REPLACED.format(replaced=result.replaced) if result.replaced else ""
        self.stdout.write(DONE.format(rows=result.rows, added=result.added, updated=result.updated, unchanged=result.unchanged) + replaced)
