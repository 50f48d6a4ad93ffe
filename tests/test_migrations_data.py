"""The data migrations that make existing rows fit a new unique key, run as a deploy runs them: the database
is taken back to the migration before, given the rows an older release could leave, and migrated forward."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.models import DeclineGround, DestructionItemState, DestructionList, DestructionListItem, TaggerModel
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrate(target: tuple[str, str]):
    """Migrate the test database to ``target`` and return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state([target]).apps


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_two_active_taggers_left_by_a_race_keep_the_newest(back_to_latest):
    apps = migrate(("cases", "0023_case_fact_answered"))
    old = apps.get_model("cases", "TaggerModel")
    now = datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC)
    for version, hours in (("a", 0), ("b", 2), ("c", 1)):
        old.objects.create(version=version, path=f"/tmp/{version}", active=True, created_at=now + datetime.timedelta(hours=hours))
    old.objects.create(version="d", path="/tmp/d", active=False, created_at=now + datetime.timedelta(hours=3))
    migrate(("cases", "0024_one_active_tagger"))
    assert list(TaggerModel.objects.filter(active=True).values_list("version", flat=True)) == ["b"]


def test_a_case_proposed_on_two_open_lists_stays_on_the_approved_one(back_to_latest):
    cases = [CaseFactory(closed=True), CaseFactory(closed=True)]
    apps = migrate(("cases", "0018_webhook_token_digest"))
    lists = apps.get_model("cases", "DestructionList")
    items = apps.get_model("cases", "DestructionListItem")
    today = datetime.date(2026, 12, 1)
    older = lists.objects.create(as_of=today, status="proposed")
    approved = lists.objects.create(as_of=today, status="approved")
    cancelled = lists.objects.create(as_of=today, status="cancelled")

    def item(on, case, state="proposed"):
        return items.objects.create(
            destruction_list=on, case_id=case.pk, number=f"N{case.pk}", kind="complaint", result_type_name="x",
            selectielijst_item="11.1.2", source_date=today, destroy_on=today, state=state,
        )

    item(older, cases[0]), item(approved, cases[0]), item(cancelled, cases[0])  # a double click, then a withdrawn list
    item(older, cases[1]), item(cancelled, cases[1], state="excluded")
    migrate(("cases", "0019_one_open_proposal_per_case"))

    def states(case):
        rows = DestructionListItem.objects.filter(case_id=case.pk).order_by("destruction_list_id")
        return [(row.destruction_list_id, row.state) for row in rows]

    withdrawn, proposed = DestructionItemState.WITHDRAWN, DestructionItemState.PROPOSED
    assert states(cases[0]) == [(older.pk, withdrawn), (approved.pk, proposed), (cancelled.pk, withdrawn)]
    assert states(cases[1]) == [(older.pk, DestructionItemState.PROPOSED), (cancelled.pk, DestructionItemState.EXCLUDED)]
    assert "eerdere open vernietigingslijst" in DestructionListItem.objects.get(case_id=cases[0].pk, destruction_list_id=older.pk).reason
    assert DestructionList.objects.count() == 3


def test_declined_cases_keep_their_ground_when_the_codes_of_9_8_lid_1_e_and_f_are_put_right(back_to_latest):
    criminal, court, late = (CaseFactory(acknowledged=True) for _ in range(3))
    apps = migrate(("cases", "0024_one_active_tagger"))
    old = apps.get_model("cases", "Case")
    for case, code in ((criminal, "9:8-1e"), (court, "9:8-1f"), (late, "9:8-1b")):  # the old codes: e criminal, f court
        old.objects.filter(pk=case.pk).update(decline_ground=code, state="closed")
    migrated = migrate(("cases", "0025_awb_citations")).get_model("cases", "Case").objects  # the model as it was then

    def ground(case):
        return migrated.values_list("decline_ground", flat=True).get(pk=case.pk)

    assert ground(criminal) == DeclineGround.CRIMINAL == "9:8-1f"
    assert ground(court) == DeclineGround.COURT == "9:8-1e"
    assert ground(late) == DeclineGround.OLDER_THAN_A_YEAR


def test_questions_left_open_on_ended_cases_are_withdrawn_and_noted(back_to_latest):
    """Migration 0032: a question an older release left open on a closed or merged case stops asking; one of an
    open case still waits for its answer."""
    from cases.models import CaseEvent, CitizenQuestion

    closed, merged, running = CaseFactory(closed=True), CaseFactory(in_treatment=True), CaseFactory(in_treatment=True)
    apps = migrate(("cases", "0031_import_replaced_totals"))
    old_cases, questions = apps.get_model("cases", "Case"), apps.get_model("cases", "CitizenQuestion")
    old_cases.objects.filter(pk=merged.pk).update(merged_into_id=running.pk)
    for case in (closed, merged, running):
        questions.objects.create(case_id=case.pk, text=f"Vraag bij {case.pk}?", status="open")
    migrate(("cases", "0032_withdraw_questions_of_ended_cases"))
    status = dict(CitizenQuestion.objects.values_list("case_id", "status"))
    assert status == {closed.pk: "withdrawn", merged.pk: "withdrawn", running.pk: "open"}
    noted = CaseEvent.objects.filter(name="question_withdrawn").values_list("case_id", "data__why")
    assert sorted(noted) == sorted([(closed.pk, "closed"), (merged.pk, "merged")])


def test_a_reprint_note_that_the_outbox_has_not_yet_overwritten_moves_to_its_own_field(back_to_latest):
    """0034: a letter remade after printing, its PDF not made yet, held why in ``last_error``; it moves to
    ``reprint_reason``. Another letter's delivery note stays where it is."""
    from cases.models import OutgoingMessage

    case = CaseFactory(email="")
    apps = migrate(("cases", "0033_web_submission"))
    old = apps.get_model("cases", "OutgoingMessage")
    note = "Het adres is verbeterd: print deze brief opnieuw en gooi de eerdere print weg."

    def letter(key, status, last_error):
        return old.objects.create(case_id=case.pk, kind="answer", channel="post", status=status, dedupe_key=key, message_id=f"<{key}@t>", last_error=last_error)

    remade, other = letter("a", "queued", note), letter("b", "to_print", "Geen e-mailadres: per post.")
    migrate(("cases", "0034_reprint_reason"))
    assert OutgoingMessage.objects.filter(pk=remade.pk).values_list("reprint_reason", "last_error").get() == (note, "")
    assert OutgoingMessage.objects.filter(pk=other.pk).values_list("reprint_reason", "last_error").get() == ("", "Geen e-mailadres: per post.")
