"""``manage.py complaints_report --year 2026 --format pdf|csv|json [--output FILE] [--refresh]``

Writes the annual complaints report (Awb 9:12a). CSV and JSON go to stdout unless ``--output``
is given; a PDF goes to ``klachtenrapportage-<year>.pdf`` unless ``--output`` is given.
Progress goes to stderr (hide it with ``-v 0``).
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.management.report_output import output_target, output_write
from cases.reporting.report import FORMATS, STEPS, ReportError, report_build, report_filename, report_render
from cases.reporting.rollup import rollup_refresh

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Write the annual complaints report (Awb 9:12a) as PDF, CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="Year of receipt, e.g. 2026.")
        parser.add_argument("--format", choices=FORMATS, default="pdf", dest="fmt")
        parser.add_argument("--output", type=Path, help="File to write; default stdout (CSV, JSON) or klachtenrapportage-<year>.pdf.")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="Reference day for open cases (YYYY-MM-DD); default today.")
        parser.add_argument("--refresh", action="store_true", help="Rebuild the aggregates from the cases first (as the nightly task does).")

    def handle(self, *args, year: int, fmt: str, output: Path | None, as_of, refresh: bool, verbosity: int, **options):
        output = output_target(output, fmt=fmt, default_name=report_filename(year=year, fmt=fmt))
        bar = tqdm(
            total=len(STEPS) + 1 + refresh,
            desc=f"rapportage {year}",
            unit="stap",
            file=getattr(self.stderr, "_out", self.stderr),
            disable=verbosity == 0,
            leave=False,
        )
        try:
            if refresh:
                bar.set_postfix_str("cijfers herberekenen")
                rollup_refresh(months=None)
                bar.update()

            def progress(step: str) -> None:
                bar.set_postfix_str(step)
                bar.update()

            report = report_build(year=year, as_of=as_of, progress=progress)
            bar.set_postfix_str(fmt)
            content = report_render(report=report, fmt=fmt)
            bar.update()
        except ReportError as exc:
            logger.warning("complaints_report refused: %s", exc)
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        output_write(self, content, output, verbosity=verbosity)
