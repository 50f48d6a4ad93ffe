"""The ombudsman stage (Awb 9:18 and on): after our handling the complainant may go to the
Nationale ombudsman, or to the municipality's own ombudsman (``OmbudsmanSettings``).

The officer records that the complainant went, later the ombudsman's findings and the measures the
municipality took. Recording it moves the case's retention to the ombudsman term and holds it
from destruction while the ombudsman handles it (``cases.records.retention.record_ombudsman``),
in the same transaction.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import errors
from cases.conversation import texts
from cases.conversation.questions import refuse
from cases.errors import WorkflowError
from cases.models import CaseEvent, CaseState, EventKind, OmbudsmanKind, OmbudsmanReferral
from cases.permissions import HANDLE_CASE, require
from cases.records.retention import record_ombudsman
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)


def ombudsman_record(*, case_id: int, ombudsman: str, submitted_on: datetime.date, actor, note: str = "") -> OmbudsmanReferral:
    """The complainant took the complaint to the ombudsman; the retention term changes with it."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    if ombudsman not in OmbudsmanKind.values:
        refuse(ValidationError({"ombudsman": texts.OMBUDSMAN_UNKNOWN}), "ombudsman", case_id)
    if submitted_on > timezone.localdate():
        refuse(ValidationError({"submitted_on": texts.OMBUDSMAN_DATE_IN_FUTURE}), "ombudsman", case_id)
    with transaction.atomic():
        case = locked_case(case_id)
        if not case.is_complaint():
            refuse(WorkflowError(texts.OMBUDSMAN_ONLY_COMPLAINTS), "ombudsman", case_id)
        if case.state != CaseState.CLOSED:
            refuse(WorkflowError(texts.OMBUDSMAN_NOT_ANSWERED), "ombudsman", case_id)
        referral, _created = OmbudsmanReferral.objects.update_or_create(
            case=case, defaults={"ombudsman": ombudsman, "submitted_on": submitted_on, "recorded_by": actor, "recorded_at": timezone.now()}
        )
        label = OmbudsmanKind(ombudsman).label
        try:
            record_ombudsman(case_id=case.pk, on=submitted_on, note=f"{label}. {note}".strip(), actor=actor)
        except (ValidationError, WorkflowError) as exc:
            refuse(exc, "ombudsman", case_id)
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="ombudsman", note=f"Naar {label} op {submitted_on:%d-%m-%Y}. {note}".strip())
    logger.info("case %s: complainant went to %s on %s (recorded by %s)", case, ombudsman, submitted_on, actor.get_username())
    return referral


def ombudsman_findings(*, case_id: int, findings: str, measures: str, findings_on: datetime.date | None, actor) -> OmbudsmanReferral:
    """The ombudsman's findings and the measures the municipality took; the timeline keeps each version."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    findings, measures = (findings or "").strip(), (measures or "").strip()
    if not findings and not measures:
        refuse(ValidationError({"findings": texts.OMBUDSMAN_FINDINGS_EMPTY}), "ombudsman findings", case_id)
    if findings_on is not None and findings_on > timezone.localdate():
        refuse(ValidationError({"findings_on": texts.OMBUDSMAN_DATE_IN_FUTURE}), "ombudsman findings", case_id)
    with transaction.atomic():
        referral = OmbudsmanReferral.objects.select_for_update().filter(case_id=case_id).first()
        if referral is None:
            refuse(WorkflowError(texts.OMBUDSMAN_NOT_RECORDED), "ombudsman findings", case_id)
        referral.findings, referral.measures, referral.findings_on = findings, measures, findings_on
        referral.save(update_fields=["findings", "measures", "findings_on"])
        CaseEvent.objects.create(
            case_id=case_id, actor=actor, kind=EventKind.NOTE, name="ombudsman_findings", note=f"Bevindingen: {findings}\nMaatregelen: {measures}"
        )
    logger.info("case %s: ombudsman findings recorded by %s", case_id, actor.get_username())
    return referral
