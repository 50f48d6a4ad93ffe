"""``manage.py charter_report --year 2026 --format json|csv|pdf [--output FILE] [--as-of DATE]``

Writes the charter report, "Hoe hielden wij ons aan onze beloften?" (``cases.measurements.charter_report``):
per norm its target, per period whether it was met, and the complaints and suggestions. JSON and
CSV go to stdout unless ``--output`` is given; a PDF goes to ``handvestrapportage-<year>.pdf``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.management.report_output import output_target, output_write
from cases.measurements.charter_report import FORMATS, charter_report_build, charter_report_filename, charter_report_render
from cases.reporting.report import ReportError


class Command(BaseCommand):
    help = "Write the charter report (per norm: target, attainment per period, met or not, complaints) as JSON, CSV or PDF."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="The year, e.g. 2026.")
        parser.add_argument("--format", choices=FORMATS, default="json", dest="fmt")
        parser.add_argument("--output", type=Path, help="File to write; default stdout (JSON, CSV) or handvestrapportage-<year>.pdf.")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="Reference day (YYYY-MM-DD); default today. Later periods are left out.")

    def handle(self, *args, year: int, fmt: str, output: Path | None, as_of, verbosity: int, **options):
        output = output_target(output, fmt=fmt, default_name=charter_report_filename(year=year, fmt=fmt))
        try:
            report = charter_report_build(year=year, as_of=as_of, charts=fmt == "pdf")
            content = charter_report_render(report=report, fmt=fmt)
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        output_write(self, content, output, verbosity=verbosity)
