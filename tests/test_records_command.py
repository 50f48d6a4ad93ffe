"""``manage.py destruction_list`` proposes the cases whose term has passed (never an open, held or
permanent one), and ``manage.py subject_access_export`` writes one person's zip."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import CaseRecord, DestructionList, RecordHold
from cases.records import retention
from tests.factories import CaseFactory, officer
from tests.support.records import close_years_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(municipality):
    due = CaseFactory(closed=True)
    close_years_ago(due, 6)
    held = CaseFactory(closed=True)
    close_years_ago(held, 6)
    retention.record_hold(case_id=held.pk, hold=RecordHold.OBJECTION, reason="beroep loopt", actor=officer())
    permanent = CaseFactory(closed=True)
    close_years_ago(permanent, 6)
    CaseRecord.objects.filter(case=permanent).update(verdict="bewaren", destroy_on=None)
    return {"due": due, "held": held, "permanent": permanent, "open": CaseFactory(in_treatment=True), "recent": CaseFactory(closed=True)}


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("destruction_list", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_json_proposal_holds_only_the_case_whose_term_passed(cases):
    out, _err = run("--json", "-v", "0")
    data = json.loads(out)
    assert data["count"] == 1
    (row,) = data["cases"]
    assert (row["number"], row["selectielijst_item"], row["term_years"], row["on_list"]) == (cases["due"].registration.number, "13.1", 5, "")
    assert data["not_proposed"] == {"open": 1, "held": 1, "keep": 1, "no_result_type": 0, "term_running": 1, "destroyed": 0}
    assert data["saved_as"] is None and not DestructionList.objects.exists()


def test_as_of_a_later_day_adds_the_case_whose_term_ends_before_it(cases):
    later = timezone.localdate() + datetime.timedelta(days=365 * 5 + 5)
    numbers = {row["number"] for row in json.loads(run("--json", "--as-of", later.isoformat(), "-v", "0")[0])["cases"]}
    assert numbers == {cases["due"].registration.number, cases["recent"].registration.number}
    assert cases["open"].registration.number not in numbers and cases["held"].registration.number not in numbers


def test_the_table_names_each_case_and_why_the_others_are_not_proposed(cases):
    out, _err = run()
    assert "Vernietigingsvoorstel per" in out and "1 zaak" in out
    assert cases["due"].registration.number in out and cases["held"].registration.number not in out
    assert "Niet voorgesteld: nog in behandeling: 1" in out


def test_save_puts_the_proposal_on_a_list_for_the_archivist_once(cases):
    out, _err = run("--save")
    destruction_list = DestructionList.objects.get()
    assert destruction_list.number in out and destruction_list.items.get().case_id == cases["due"].pk
    assert f"(op {destruction_list.number})" in run()[0]
    with pytest.raises(CommandError, match="geen zaken"):
        run("--save")


def test_save_refuses_a_day_in_the_future(cases):
    with pytest.raises(CommandError, match="toekomst"):
        run("--save", "--as-of", (timezone.localdate() + datetime.timedelta(days=1)).isoformat())


def test_the_export_command_writes_the_persons_zip(gemeente, tmp_path):
    mine = CaseFactory(email="tjitske@voorbeeld.nl", text="Mijn eigen klacht")
    CaseFactory(email="tjitske@voorbeeld.org", text="Andermans klacht")
    target = tmp_path / "inzage.zip"
    call_command("subject_access_export", "--email", "tjitske@voorbeeld.nl", "--output", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    data = json.loads(zipfile.ZipFile(target).read("inzage.json"))
    assert [row["number"] for row in data["registrations"]] == [mine.registration.number]
    with pytest.raises(CommandError):
        call_command("subject_access_export", stdout=io.StringIO(), stderr=io.StringIO())
