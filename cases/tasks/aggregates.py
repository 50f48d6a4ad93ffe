"""Celery tasks that keep the aggregates' derived tables current (``cases.services.rollup``)."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import OperationalError

from cases.services.rollup import rollup_refresh

__all__ = ["rebuild_aggregates", "refresh_aggregates"]


# A refresh waits for the previous one (an advisory lock); a deadlock or a dropped connection is
# worth a few retries, as the task is idempotent: it recomputes whole months from the cases.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_aggregates(months: list[str]) -> int:
    """Recompute the derived tables for these months of receipt (ISO dates)."""
    result = rollup_refresh(months=[datetime.date.fromisoformat(month) for month in months])
    return result.facts


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def rebuild_aggregates() -> int:
    """Recompute all derived tables (nightly, by beat): repairs whatever a missed refresh left."""
    return rollup_refresh(months=None).facts
