"""Hand-built cases with known answers, shared by the aggregate, compliance, report and panel tests.

No tests here: only builders. Cases are registered through the real service (``make_case``),
then their dates and outcomes are set directly, as if they had been handled on those days.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from cases.models import Case, CaseEvent, CaseNorm, EventKind, TagStatus
from cases.reporting.rollup import rollup_refresh
from cms.charter_loading import parse_charter
from cms.models import Charter, ServiceNorm
from tests.conftest import HARLINGEN
from tests.factories import make_case

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(name="norms")
def norms_fixture(municipality):
    """The 29 published norms of the Harlingen charter as plain rows, without the revisions and
    the page that ``load_charter`` makes (the ``harlingen`` fixture): ten times faster, for tests
    that only count per norm."""
    data = parse_charter(HARLINGEN.read_text(), source=str(HARLINGEN))
    charter = Charter.objects.create(key=data["key"], title=data["charter"]["title"], year=data["charter"]["year"])
    ServiceNorm.objects.bulk_create([ServiceNorm(charter=charter, live=True, **values) for values in data["norms"]])
    return charter


D = datetime.date


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """A moment on ``day``, Amsterdam time."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)


def build_case(
    *,
    received_on: datetime.date,
    kind: str = "complaint",
    channel: str = "web",
    text: str | None = None,
    email: str | None = None,
    acknowledged: datetime.datetime | None = None,
    answered: datetime.datetime | None = None,
    closed: datetime.datetime | None = None,
    outcome: str = "",
    extended_on: datetime.datetime | None = None,
    extended_to: datetime.date | None = None,
    tags: dict[str, str] | None = None,
) -> Case:
    """A case received on ``received_on`` and handled on the given moments; ``tags`` maps norm code → tag status."""
    case = make_case(received_on=received_on, kind=kind, channel=channel, text=text, email=email)
    fields: dict = {}
    if acknowledged:
        fields.update(acknowledged_at=acknowledged, state="acknowledged")
    if answered:
        fields.update(answered_at=answered, state="answered" if kind == "complaint" else "responded")
    if closed:
        fields.update(closed_at=closed, state="closed")
    if outcome:
        fields["outcome"] = outcome
    if extended_to:
        fields.update(extended_answer_due=extended_to, extension_reason="Advies van een deskundige nodig.")
    if fields:
        Case.objects.filter(pk=case.pk).update(**fields)
    if extended_on:
        CaseEvent.objects.create(case=case, kind=EventKind.EXTENDED, name="extend", at=extended_on, data={"new_due": extended_to.isoformat()})
    for code, status in (tags or {}).items():
        CaseNorm.objects.create(case=case, norm=ServiceNorm.objects.get(code=code), status=status, source="officer" if status != "suggested" else "tagger")
    case.refresh_from_db()
    return case


C, S, R = TagStatus.CONFIRMED, TagStatus.SUGGESTED, TagStatus.REJECTED


def build_norm_cases() -> dict[str, Case]:
    """Tags over 2024 and 2025 with known counts (threshold 3):

    TEL-25SEC complaints: 2024-03 ×3; 2025-01 ×4 (web) confirmed + 1 (e-mail) suggested; 2025-02 ×2.
    BALIE-WACHTTIJD suggestions: 2025-02 ×3 (letter). WEB-INFORMATIE: 2025-04 ×1, on a case where
    TEL-25SEC was rejected. A case merged into another, tagged TEL-25SEC, is not counted.
    """
    cases: dict[str, Case] = {}
    for index in range(3):
        cases[f"a2024_{index}"] = build_case(received_on=D(2024, 3, 4 + index), tags={"TEL-25SEC": C})
    for index in range(4):
        cases[f"a_jan_{index}"] = build_case(received_on=D(2025, 1, 6 + index), tags={"TEL-25SEC": C})
    cases["a_jan_suggested"] = build_case(received_on=D(2025, 1, 13), channel="email", tags={"TEL-25SEC": S})
    for index in range(2):
        cases[f"a_feb_{index}"] = build_case(received_on=D(2025, 2, 3 + index), tags={"TEL-25SEC": C}, closed=at(D(2025, 2, 20)), outcome="gegrond")
    for index in range(3):
        cases[f"b_feb_{index}"] = build_case(received_on=D(2025, 2, 10 + index), kind="suggestion", channel="letter", tags={"BALIE-WACHTTIJD": C})
    cases["c_apr"] = build_case(received_on=D(2025, 4, 7), tags={"TEL-25SEC": R, "WEB-INFORMATIE": C})
    merged = build_case(received_on=D(2025, 1, 8), tags={"TEL-25SEC": C})
    Case.objects.filter(pk=merged.pk).update(merged_into=cases["a_jan_0"])
    rollup_refresh()
    return cases


AS_OF = D(2025, 12, 31)


def build_compliance_cases() -> dict[str, Case]:
    """Eleven cases of 2025 with known compliance figures as of 31 December 2025 (see test_compliance.py)."""
    cases = {
        # Good Friday 18 and Easter Monday 21 April 2025 are no working days: acknowledgement due 24 April.
        "c1": build_case(
            received_on=D(2025, 4, 16),
            acknowledged=at(D(2025, 4, 24), 23, 30),
            answered=at(D(2025, 5, 20)),
            closed=at(D(2025, 5, 21)),
            outcome="gegrond",
        ),
        "c2": build_case(
            received_on=D(2025, 4, 16),
            acknowledged=at(D(2025, 4, 25), 0, 30),
            answered=at(D(2025, 5, 28)),
            closed=at(D(2025, 5, 28)),
            outcome="ongegrond",
        ),
        # Six weeks after 17 April is Ascension Day (29 May 2025): the term ends on 30 May.
        "c3": build_case(
            received_on=D(2025, 4, 17),
            acknowledged=at(D(2025, 4, 22)),
            answered=at(D(2025, 5, 30)),
            closed=at(D(2025, 6, 2)),
            outcome="deels_gegrond",
        ),
        # 5 May (Bevrijdingsdag) is a holiday every year (Atw art. 3): acknowledgement due 7 May.
        # Extended in time (5 June, before 11 June) to 9 July; answered 1 July.
        "c4": build_case(
            received_on=D(2025, 4, 30),
            acknowledged=at(D(2025, 5, 7)),
            extended_on=at(D(2025, 6, 5)),
            extended_to=D(2025, 7, 9),
            answered=at(D(2025, 7, 1)),
            closed=at(D(2025, 7, 2)),
            outcome="gegrond",
        ),
        # Never acknowledged; extended too late (after 14 April) to 12 May; answered 15 May.
        "c5": build_case(
            received_on=D(2025, 3, 3),
            extended_on=at(D(2025, 4, 20)),
            extended_to=D(2025, 5, 12),
            answered=at(D(2025, 5, 15)),
            closed=at(D(2025, 5, 16)),
            outcome="geen_oordeel",
        ),
        # Resolved to the complainant's satisfaction within the acknowledgement term: no acknowledgement needed.
        "c6": build_case(received_on=D(2025, 3, 3), closed=at(D(2025, 3, 5)), outcome="informeel_opgelost"),
        # Withdrawn: no answer owed.
        "c7": build_case(received_on=D(2025, 6, 2), acknowledged=at(D(2025, 6, 3)), closed=at(D(2025, 6, 10)), outcome="ingetrokken"),
        # Open and overdue (answer due 15 December), no interim notice.
        "c8": build_case(received_on=D(2025, 11, 3), acknowledged=at(D(2025, 11, 4))),
        # Open, not acknowledged; Christmas: acknowledgement due 30 December, passed on 31 December.
        "c9": build_case(received_on=D(2025, 12, 22)),
        # Open, not acknowledged; New Year's Day: acknowledgement due 5 January 2026, not yet passed.
        "c10": build_case(received_on=D(2025, 12, 29)),
        "s1": build_case(
            received_on=D(2025, 5, 6),
            kind="suggestion",
            channel="email",
            acknowledged=at(D(2025, 5, 6)),
            answered=at(D(2025, 5, 20)),
            closed=at(D(2025, 5, 21)),
            outcome="adopted",
        ),
    }
    merged = build_case(received_on=D(2025, 4, 16), acknowledged=at(D(2025, 6, 30)))
    Case.objects.filter(pk=merged.pk).update(merged_into=cases["c1"])
    rollup_refresh()
    return cases
