"""``manage.py destruction_list [--as-of YYYY-MM-DD] [--json] [--save]``

Proposes the closed cases whose destruction date (brondatum + term of the Selectielijst) has passed
on ``--as-of`` (default today): never an open case, a case with a hold (Nationale ombudsman,
objection) or a case to keep for ever. Prints a table and a summary (why the other cases are not
proposed), or with ``--json`` one object. Progress goes to stderr (hide it with ``-v 0``).
``--save`` puts the proposal on a destruction list for the archivist to review in Wagtail
(Archief → Vernietigingslijsten); nothing is destroyed before the archivist approves.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from cases.errors import WorkflowError
from cases.records.destruction import cases_on_open_lists, destruction_candidates, destruction_list_create, destruction_summary

SUMMARY_LABELS = {
    "open": "nog in behandeling",
    "held": "niet vernietigen (ombudsman, bezwaar of andere reden)",
    "keep": "blijvend bewaren",
    "no_result_type": "zonder resultaattype",
    "term_running": "bewaartermijn loopt nog",
    "destroyed": "al vernietigd",
}


class Command(BaseCommand):
    help = "Propose the closed cases whose retention term has passed (Archiefwet, Selectielijst 2020)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="Reference day (YYYY-MM-DD); default today.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print one JSON object instead of a table.")
        parser.add_argument("--save", action="store_true", help="Put the proposal on a destruction list for the archivist (as of today or earlier).")

    def handle(self, *args, as_of, as_json: bool, save: bool, verbosity: int, **options):
        as_of = as_of or timezone.localdate()
        taken = cases_on_open_lists()
        queryset = destruction_candidates(as_of=as_of)
        rows = []
        for record in tqdm(
            queryset.iterator(),
            total=queryset.count(),
            desc="voorstel",
            unit="zaak",
            file=getattr(self.stderr, "_out", self.stderr),
            disable=verbosity == 0,
            leave=False,
        ):
            rows.append(self._row(record, taken))
        summary = destruction_summary(as_of=as_of)
        saved = self._save(as_of) if save else None
        if as_json:
            self.stdout.write(self._json(as_of, rows, summary, saved))
        else:
            self._table(as_of, rows, summary, saved, verbosity)

    @staticmethod
    def _row(record, taken: dict[int, str]) -> dict:
        result_type = record.result_type
        return {
            "number": record.case.registration.number,
            "kind": record.case.kind,
            "result_type": result_type.name if result_type else "",
            "selectielijst_item": result_type.selectielijst_item if result_type else "",
            "term_years": record.term_years,
            "source_date": record.source_date.isoformat(),
            "destroy_on": record.destroy_on.isoformat(),
            "on_list": taken.get(record.case_id, ""),
        }

    @staticmethod
    def _save(as_of: datetime.date) -> str:
        try:
            return destruction_list_create(as_of=as_of, actor=None).number
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except WorkflowError as exc:
            raise CommandError(str(exc)) from exc

    @staticmethod
    def _json(as_of: datetime.date, rows: list[dict], summary: dict, saved: str | None) -> str:
        data = {"as_of": as_of.isoformat(), "count": len(rows), "cases": rows, "not_proposed": summary, "saved_as": saved}
        return json.dumps(data, ensure_ascii=False, indent=2)

    def _table(self, as_of: datetime.date, rows: list[dict], summary: dict, saved: str | None, verbosity: int) -> None:
        self.stdout.write(f"Vernietigingsvoorstel per {as_of:%d-%m-%Y}: {len(rows)} za{'ak' if len(rows) == 1 else 'ken'}")
        if rows:
            self.stdout.write(f"{'nummer':<17} {'soort':<11} {'categorie':<9} {'termijn':>7}  {'brondatum':<10}  {'vanaf':<10}  resultaattype")
        for row in rows:
            on_list = f"  (op {row['on_list']})" if row["on_list"] else ""
            self.stdout.write(
                f"{row['number']:<17} {row['kind']:<11} {row['selectielijst_item']:<9} {row['term_years'] or '-':>5} jr  "
                f"{row['source_date']:<10}  {row['destroy_on']:<10}  {row['result_type']}{on_list}"
            )
        if verbosity and rows:
            per_type = Counter(f"{row['selectielijst_item']} {row['result_type']}" for row in rows)
            self.stdout.write("Per resultaattype: " + "; ".join(f"{label}: {count}" for label, count in sorted(per_type.items())))
        if verbosity:
            self.stdout.write("Niet voorgesteld: " + "; ".join(f"{SUMMARY_LABELS[key]}: {value}" for key, value in summary.items()))
        if saved:
            self.stdout.write(f"Opgeslagen als {saved}; de archivaris beoordeelt de lijst in Wagtail (Archief → Vernietigingslijsten).")
