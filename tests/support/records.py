"""Helpers of the records tests (tests/test_records_*.py): closed cases whose retention term has run out."""

import datetime

from django.utils import timezone

from cases.models import Case, CaseRecord


def close_years_ago(case: Case, years: int, days: int = 2) -> CaseRecord:
    """Pretend ``case`` closed ``years`` years and ``days`` days ago: its record is fixed again from that day."""
    closed = timezone.now() - datetime.timedelta(days=365 * years + years // 4 + days)
    Case.objects.filter(pk=case.pk).update(closed_at=closed)
    case.refresh_from_db()
    return CaseRecord.fix_at_closure(case)
