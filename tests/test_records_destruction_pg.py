"""Two destruction lists made at the same moment (a double click, two archivists), on PostgreSQL: each case
is proposed on one of them, so excluding it there cannot be undone by approving the other. Needs PostgreSQL."""

import pytest

from cases.errors import WorkflowError
from cases.models import DestructionItemState, DestructionList, DestructionListItem, Registration
from cases.records import destruction
from tests.conftest import requires_postgres
from tests.test_exactly_once_pg import at_once
from tests.test_records_destruction import TEXT, approve, destroyable

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_lists_made_at_once_never_propose_a_case_twice_and_an_exclusion_holds(gemeente, archivist, django_capture_on_commit_callbacks):
    cases = [destroyable() for _ in range(3)]

    def create(_number):
        try:
            return destruction.destruction_list_create(actor=archivist).pk
        except WorkflowError as refused:
            return str(refused)

    outcomes = at_once(create, 4)
    made = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(made) == 1, outcomes  # the others found every case taken, with the archivist's message
    assert all("geen zaken" in outcome for outcome in outcomes if isinstance(outcome, str))
    proposed = DestructionListItem.objects.filter(state=DestructionItemState.PROPOSED)
    assert sorted(proposed.values_list("case_id", flat=True)) == sorted(case.pk for case in cases)
    assert DestructionList.objects.filter(items__isnull=True).count() == 0  # no empty twin left behind
    kept = cases[0]
    destruction.destruction_item_exclude(item_id=proposed.get(case=kept).pk, reason="bezwaar loopt nog", actor=archivist)
    approve(archivist, DestructionList.objects.get(pk=made[0]), django_capture_on_commit_callbacks)
    assert Registration.objects.get(pk=kept.registration_id).text == TEXT
    assert Registration.objects.get(pk=cases[1].registration_id).text == ""
