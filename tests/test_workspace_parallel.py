"""Two officers (or one double click) at once, on PostgreSQL, through real parallel requests: found by the review of
stop 31, each test failed before its fix.

Each thread has its own Django test Client (and so its own database connection) and the threads
are released together by a barrier. Needs PostgreSQL (CI sets DATABASE_URL).
"""


import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.models import CaseEvent, CaseNorm, EventKind, OutboxStatus, OutgoingMessage, TagStatus
from cases.tagging import tags_store_suggestions
from cms.roles import MAILROOM
from tests.conftest import requires_postgres
from tests.factories import CaseFactory, UserFactory, officer
from tests.support.parallel import at_once

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def post(user, url, data):
    """POST as ``user`` in a fresh client: (status, [(level, message), ...]); a 500 is returned, not raised."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.post(url, data)
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)] if response.status_code < 500 else []
    return response.status_code, messages


def act_url(case, action):
    return reverse("handvest_workspace:case_action", args=[case.pk, action])


@pytest.fixture
def officers(municipality):
    return [officer(f"officer{i}") for i in range(2)]


# --- 1. a double click on a step: taken once, no error page ---------------------------------------
def test_a_step_double_clicked_at_once_is_taken_once_and_no_click_gets_an_error_page(officers):
    """The officer clicks "Ontvangst bevestigen" several times at once (an impatient click, a few tabs) in a threaded
    server: the step is taken once and every click lands back on the case with the success message. The case's
    refresh is safe across threads (``Case.refresh_from_db``; django-fsm-2 switches a flag shared by every thread)."""
    case = CaseFactory()
    data = {"name": "acknowledge", "expected_state": case.state, "note": ""}
    results = at_once(lambda _: post(officers[0], act_url(case, "transition"), data), 10)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION, name="acknowledge").count() == 1
    assert [status for status, _ in results] == [302] * 10, results
    assert all(messages and messages[0][0] == "success" for _, messages in results), results


# --- 2. confirm and reject the same norm at once: one wins, the other is told -----------------------
def test_confirm_and_reject_of_one_norm_at_once_one_wins_and_the_other_is_told(harlingen, officers):
    """Two officers have the case open with TEL-GROET suggested; one confirms it, the other rejects it, at the same
    moment. As for the handler (``seen_officer``) and the hearing report (``seen``): one decision is saved, and the
    other officer is told a colleague decided meanwhile (the form carries the tag's status as the page showed it)."""
    case = CaseFactory(acknowledged=True)
    tags_store_suggestions(case_id=case.pk, scores={"TEL-GROET": 0.9}, suggested=["TEL-GROET"], model_version="t")
    data = {"expected_state": case.state, "code": "TEL-GROET", "seen_status": "suggested"}
    actions = ["tag_confirm", "tag_reject"]
    results = at_once(lambda i: post(officers[i], act_url(case, actions[i]), data), 2)
    assert [status for status, _ in results] == [302, 302]
    levels = sorted(messages[0][0] for _, messages in results)
    assert levels == ["error", "success"], results
    winner = actions[[messages[0][0] for _, messages in results].index("success")]
    final = CaseNorm.objects.get(case=case, norm__code="TEL-GROET").status
    assert final == (TagStatus.CONFIRMED if winner == "tag_confirm" else TagStatus.REJECTED)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.TAG, name__in=["confirmed", "rejected"]).count() == 1


# --- 3. the mailroom: overlapping batches posted at once ------------------------------------------
@pytest.fixture
def clerks(municipality):
    return [UserFactory(username="postkamer", role=MAILROOM), UserFactory(username="postkamer2", role=MAILROOM)]


def to_print_letter():
    case = CaseFactory(by_post=True)
    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    return message


def test_two_clerks_posting_overlapping_batches_at_once_post_every_letter(clerks):
    """Two clerks each take a stack of PDF letters to the post box; one letter is in both stacks, and they mark their
    batches posted at the same moment: every letter of both batches is posted, and the shared one is named as posted
    already, as when one click comes a moment after the other (decided under the lock in ``letters_mark_posted``)."""
    shared = to_print_letter()
    stacks = [[shared.pk] + [to_print_letter().pk for _ in range(5)] for _ in range(2)]
    url = reverse("handvest_mailroom:mark_posted")
    today = timezone.localdate().isoformat()
    results = at_once(lambda i: post(clerks[i], url, {"letters": stacks[i], "posted_on": today}), 2)
    assert [status for status, _ in results] == [302, 302]
    every = {pk for stack in stacks for pk in stack}
    left = list(OutgoingMessage.objects.filter(pk__in=every).exclude(status=OutboxStatus.POSTED).values_list("pk", "status"))
    assert left == [], results
    assert CaseEvent.objects.filter(kind=EventKind.MESSAGE_OUT, data__outgoing_id=shared.pk).count() == 1
