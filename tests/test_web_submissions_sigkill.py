"""A real worker killed with SIGKILL at random moments while it registers 120 web form submissions: each
becomes one case, under the number and with the private link its citizen was shown, with one
acknowledgement; none is lost, none is registered twice.

The submissions are stored as the web form's request stores them (``submission_store``), their tasks on
the local Redis; the worker is a separate ``celery worker`` process on the test's PostgreSQL database.
What a killed worker leaves (a task it had taken, redelivered by Redis or lost) is registered by the
redelivery or by the relay's part, as beat's ``inbound-relay`` would. Needs PostgreSQL and Redis.
"""

import collections
import datetime
import random

from django.utils import timezone

from cases.correspondence.outbox import acknowledgement_queue
from cases.intake.web_submissions import submission_register, submission_store, submissions_waiting
from cases.models import Case, OutgoingMessage, Registration, WebSubmission
from cases.workflow.registration import Sender
from cms.models import MunicipalitySettings
from tests.worker_process import NEEDS_WORKER, WorkerProcess, broker  # noqa: F401 (the fixture)

pytestmark = NEEDS_WORKER

SUBMISSIONS = 120
KILLS = 4
WAITING_PLUS = 5  # minutes past the relay's wait



def acknowledgements() -> collections.Counter:
    return collections.Counter(OutgoingMessage.objects.filter(kind="acknowledgement").values_list("case_id", flat=True))


def test_a_worker_killed_while_registering_120_submissions_registers_each_once_under_its_number(tmp_path, broker, settings):  # noqa: F811 (the fixture)
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 60  # written by the worker, not sent: the letters are counted here
    municipality = MunicipalitySettings.load()
    municipality.registration_prefix = "HLG"
    municipality.save()
    senders = [Sender(name=f"Inwoner {n}", email=f"inwoner{n}@example.nl") for n in range(SUBMISSIONS)]
    stored = [submission_store(kind="complaint", description=f"Melding {n}: de balie was dicht.", sender=sender)[0] for n, sender in enumerate(senders)]
    worker = WorkerProcess(tmp_path, HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES="60")
    chance = random.Random(20261206)
    try:
        for _ in range(KILLS):
            worker.start()
            worker.wait_until(lambda: Registration.objects.exists() and chance.random() < 0.05, timeout=chance.uniform(4, 9), step=0.1)
            worker.kill()  # at a random moment: starting up, inside a registration, between it and its acknowledgement
        # The relay's part: what waits (its task lost with a killed worker) is registered here.
        waiting = submissions_waiting(now=timezone.now() + datetime.timedelta(minutes=WAITING_PLUS))
        for submission_id in waiting:
            submission_register(submission_id=submission_id)
        worker.start()
        assert worker.wait_until(lambda: Case.objects.count() == SUBMISSIONS, timeout=180), worker.log.read_text()[-3000:]
        worker.wait_until(lambda: len(acknowledgements()) == SUBMISSIONS, timeout=30)  # a lost one is the outbox relay's, below
    finally:
        worker.stop()

    submissions = {submission.number: submission for submission in WebSubmission.objects.select_related("registration__case")}
    assert sorted(submissions) == sorted(submission.number for submission in stored)
    assert Registration.objects.count() == SUBMISSIONS and Case.objects.count() == SUBMISSIONS  # none lost, none twice
    for number, submission in submissions.items():
        assert submission.registration.number == number and submission.registration.case.public_token == submission.token
        assert submission.payload == {}
    written = acknowledgements()
    assert [case_id for case_id, count in written.items() if count > 1] == []  # no acknowledgement twice
    # The outbox relay's part: a case whose acknowledgement task was lost with a killed worker gets it now, once.
    missing = list(Case.objects.exclude(pk__in=list(written)).values_list("pk", flat=True))
    for case_id in missing:
        acknowledgement_queue(case_id=case_id)
    assert set(acknowledgements().values()) == {1} and len(acknowledgements()) == SUBMISSIONS
    print(f"\n{SUBMISSIONS} submissions, {KILLS} kills: {len(waiting)} registered by the relay, {len(missing)} acknowledgements by the outbox relay, 0 twice")

