"""Retention (Archiefwet, Selectielijst 2020): every closed case gets a result type, a verdict, a term
and a destruction date from its outcome; the officer may change the result type while the date has
not passed, and record the Nationale ombudsman (ten years, never destroyed while it runs)."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.errors import WorkflowError
from cases.models import ArchivalVerdict, Case, CaseEvent, CaseRecord, RecordHold, ResultType, add_years
from cases.permissions import ARCHIVISTS
from cases.records import retention
from cases.records.destruction import destruction_candidates
from cases.workflow.transitions import case_transition
from cms.roles import EDITORS, QUALITY_OFFICERS
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db

# The Selectielijst gemeenten en intergemeentelijke organen 2020, as the VNG reference list has it.
SELECTIELIJST_2020 = {
    "complaint_handled": ("13.1", "vernietigen", 5),
    "complaint_ombudsman": ("13.1.2", "vernietigen", 10),
    "complaint_inadmissible": ("13.1.4", "vernietigen", 1),
    "complaint_withdrawn": ("13.2", "vernietigen", 1),
    "complaint_keep": ("13.1.3", "bewaren", None),
    "suggestion_granted": ("6.1", "vernietigen", 5),
    "suggestion_declined": ("6.2", "vernietigen", 1),
    "suggestion_withdrawn": ("6.3", "vernietigen", 1),
}


def test_the_seeded_retention_table_follows_the_selectielijst_2020():
    table = {row.code: (row.selectielijst_item, row.verdict, row.term_years) for row in ResultType.objects.all()}
    assert table == SELECTIELIJST_2020


def _closed(kind: str, step: str, **params):
    """A case walked to where ``step`` closes it, then closed by ``step``."""
    start = {
        "close": {"answered": True},
        "resolve_informally": {"acknowledged": True},
        "forward": {"acknowledged": True},
        "decline": {"acknowledged": True},
        "withdraw": {"in_treatment": True},
        "close_suggestion": {"responded": True},
    }[step]
    case = CaseFactory(suggestion=kind == "suggestion", **start)
    return case_transition(case_id=case.pk, name=step, actor=officer(), **params)


@pytest.mark.parametrize(
    ("kind", "step", "params", "code", "years"),
    [
        ("complaint", "close", {"outcome": "gegrond"}, "complaint_handled", 5),
        ("complaint", "close", {"outcome": "ongegrond"}, "complaint_handled", 5),
        ("complaint", "resolve_informally", {}, "complaint_handled", 5),
        ("complaint", "forward", {"to": "Belastingdienst"}, "complaint_inadmissible", 1),
        ("complaint", "decline", {"ground": "9:8-1b"}, "complaint_inadmissible", 1),
        ("complaint", "withdraw", {}, "complaint_withdrawn", 1),
        ("suggestion", "close_suggestion", {}, "suggestion_granted", 5),
        ("suggestion", "withdraw", {}, "suggestion_withdrawn", 1),
    ],
)
def test_a_closed_case_gets_its_result_type_term_and_destruction_date(municipality, kind, step, params, code, years):
    if step == "withdraw" and kind == "suggestion":
        case = case_transition(case_id=CaseFactory(suggestion=True, under_consideration=True).pk, name="withdraw", actor=officer())
    else:
        case = _closed(kind, step, **params)
    record = CaseRecord.objects.get(case=case)
    closed_on = timezone.localdate(case.closed_at)
    assert (record.result_type.code, record.verdict, record.term_years) == (code, ArchivalVerdict.DESTROY, years)
    assert record.source_date == closed_on
    assert record.destroy_on == add_years(closed_on, years)


def test_a_declined_suggestion_is_kept_one_year(municipality):
    case = CaseFactory(suggestion=True, under_consideration=True)
    case_transition(case_id=case.pk, name="respond", actor=officer(), outcome="declined")
    case = case_transition(case_id=case.pk, name="close_suggestion", actor=officer())
    assert (case.record.result_type.code, case.record.term_years) == ("suggestion_declined", 1)


def test_an_open_case_has_no_record_and_is_never_proposed(municipality):
    case = CaseFactory(answered=True, received_on=datetime.date(2015, 3, 2))
    assert not CaseRecord.objects.filter(case=case).exists()
    assert list(destruction_candidates(as_of=timezone.localdate() + datetime.timedelta(days=365 * 30))) == []


def test_a_missing_row_of_the_table_never_stops_a_closure(municipality):
    ResultType.objects.filter(code="complaint_withdrawn").delete()
    case = case_transition(case_id=CaseFactory(acknowledged=True).pk, name="withdraw", actor=officer())
    record = CaseRecord.objects.get(case=case)
    assert case.state == "closed"
    assert (record.result_type, record.destroy_on) == (None, None)
    assert list(destruction_candidates(as_of=timezone.localdate() + datetime.timedelta(days=365 * 30))) == []


def test_the_officer_changes_the_result_type_while_the_date_has_not_passed(municipality):
    case = _closed("complaint", "close", outcome="gegrond")
    keep = ResultType.objects.get(code="complaint_keep")
    record = retention.record_set_result_type(case_id=case.pk, result_type_id=keep.pk, reason="raakt het bestemmingsplan", actor=officer())
    assert (record.verdict, record.term_years, record.destroy_on) == (ArchivalVerdict.KEEP, None, None)
    event = CaseEvent.objects.filter(case=case, name="result_type").get()
    assert "raakt het bestemmingsplan" in event.note
    assert event.data == {"before": "complaint_handled", "after": "complaint_keep"}


def test_the_result_type_is_fixed_once_the_destruction_date_passed(municipality):
    case = _closed("complaint", "close", outcome="gegrond")
    close_years_ago(case, 6)
    keep = ResultType.objects.get(code="complaint_keep")
    with pytest.raises(WorkflowError, match="verstreken"):
        retention.record_set_result_type(case_id=case.pk, result_type_id=keep.pk, reason="te laat", actor=officer())
    assert CaseRecord.objects.get(case=case).result_type.code == "complaint_handled"


def test_a_suggestion_cannot_get_a_complaint_result_type(municipality):
    case = CaseFactory(suggestion=True, closed=True)
    handled = ResultType.objects.get(code="complaint_handled")
    with pytest.raises(ValidationError):
        retention.record_set_result_type(case_id=case.pk, result_type_id=handled.pk, reason="verkeerd", actor=officer())


def test_an_editor_cannot_change_a_result_type(municipality):
    case = _closed("complaint", "close", outcome="gegrond")
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied):
        retention.record_set_result_type(case_id=case.pk, result_type_id=ResultType.objects.get(code="complaint_keep").pk, reason="x", actor=editor)


def test_the_ombudsman_is_recorded_after_closure_with_ten_years_and_a_hold(municipality):
    case = _closed("complaint", "close", outcome="ongegrond")
    close_years_ago(case, 11)
    record = retention.record_ombudsman(case_id=case.pk, on=timezone.localdate(), note="dossier 2031/0042", actor=officer())
    assert (record.result_type.code, record.term_years, record.hold) == ("complaint_ombudsman", 10, RecordHold.OMBUDSMAN)
    assert record.destroy_on == add_years(record.source_date, 10)
    # Eleven years after closure its date has passed, but the ombudsman is still busy with it.
    assert case.pk not in destruction_candidates(as_of=timezone.localdate()).values_list("case_id", flat=True)
    retention.record_lift_hold(case_id=case.pk, reason="rapport van de ombudsman ontvangen", actor=officer())
    assert case.pk in destruction_candidates(as_of=timezone.localdate()).values_list("case_id", flat=True)


def test_only_a_complaint_goes_to_the_ombudsman(municipality):
    case = CaseFactory(suggestion=True, closed=True)
    with pytest.raises(WorkflowError):
        retention.record_ombudsman(case_id=case.pk, on=timezone.localdate(), actor=officer())


def test_an_objection_keeps_a_case_off_the_list_until_lifted(municipality):
    case = _closed("complaint", "close", outcome="gegrond")
    close_years_ago(case, 6)
    retention.record_hold(case_id=case.pk, hold=RecordHold.OBJECTION, reason="beroep bij de rechtbank over hetzelfde besluit", actor=officer())
    assert not destruction_candidates(as_of=timezone.localdate()).filter(case=case).exists()
    with pytest.raises(ValidationError):
        retention.record_lift_hold(case_id=case.pk, reason="", actor=officer())
    retention.record_lift_hold(case_id=case.pk, reason="uitspraak onherroepelijk", actor=officer())
    assert destruction_candidates(as_of=timezone.localdate()).filter(case=case).exists()


def test_a_leap_day_plus_a_year_is_the_28th_of_february():
    assert add_years(datetime.date(2028, 2, 29), 5) == datetime.date(2033, 2, 28)
    assert add_years(datetime.date(2028, 2, 29), 4) == datetime.date(2032, 2, 29)


def test_the_migration_gives_cases_closed_before_it_their_record(municipality):
    case = _closed("complaint", "decline", ground="9:8-1a")
    CaseRecord.objects.filter(case=case).delete()
    migration = importlib.import_module("cases.migrations.0013_records")
    migration.record_closed_cases(apps, None)
    record = CaseRecord.objects.get(case=case)
    assert (record.result_type.code, record.destroy_on) == ("complaint_inadmissible", add_years(timezone.localdate(case.closed_at), 1))


def test_a_case_that_closes_again_keeps_the_ombudsman_term_and_its_hold(municipality):
    case = _closed("complaint", "close", outcome="gegrond")
    retention.record_ombudsman(case_id=case.pk, on=timezone.localdate(), actor=officer())
    # Reopened and closed again (the conversation's reopening): the record is fixed anew at closure.
    record = CaseRecord.fix_at_closure(CaseRecord.objects.get(case=case).case)
    assert (record.result_type.code, record.term_years, record.hold) == ("complaint_ombudsman", 10, RecordHold.OMBUDSMAN)


def test_a_result_type_chosen_by_hand_survives_reopening_and_closing_again(municipality):
    """Blijvend bewaren chosen by an officer is not undone by the derivation from a new outcome."""
    case = _closed("complaint", "close", outcome="gegrond")
    keep = ResultType.objects.get(code="complaint_keep")
    retention.record_set_result_type(case_id=case.pk, result_type_id=keep.pk, reason="raakt het bestemmingsplan", actor=officer())
    Case.objects.filter(pk=case.pk).update(outcome="ongegrond")  # reopened, answered again, closed with another judgement
    record = CaseRecord.fix_at_closure(Case.objects.get(pk=case.pk))
    assert (record.result_type.code, record.verdict, record.destroy_on) == ("complaint_keep", ArchivalVerdict.KEEP, None)
    other = _closed("complaint", "close", outcome="gegrond")  # without a hand choice the outcome still decides
    Case.objects.filter(pk=other.pk).update(outcome="ongegrond")
    assert CaseRecord.fix_at_closure(Case.objects.get(pk=other.pk)).verdict == ArchivalVerdict.DESTROY


def test_the_migration_makes_the_archivists_group_and_gives_officers_the_data_requests():
    archivists = Group.objects.get(name=ARCHIVISTS)
    # Wagtail itself adds choosing images and documents to every group with admin access.
    assert set(
        archivists.permissions.exclude(content_type__app_label__in=["wagtailimages", "wagtaildocs"]).values_list("content_type__app_label", "codename")
    ) == {
        ("wagtailadmin", "access_admin"),
        ("cases", "review_destruction"),
        ("cases", "view_destructionlist"),
        ("cases", "view_resulttype"),
        ("cases", "add_resulttype"),
        ("cases", "change_resulttype"),
        ("cases", "delete_resulttype"),
    }
    officers = Group.objects.get(name=QUALITY_OFFICERS)
    assert officers.permissions.filter(codename="handle_data_requests").exists()
    assert not archivists.permissions.filter(codename__in=["handle_case", "handle_data_requests", "view_case"]).exists()
