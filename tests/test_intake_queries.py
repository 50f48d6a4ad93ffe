"""Registering a case is a short transaction: at most 7 SQL statements from any channel (issue 20 asks 8),
whatever the history of the year (the registration number is one upsert, not a read and a write).

Counted are the statements that read or write data; BEGIN, COMMIT and savepoints are the
transaction's bookkeeping and are not. What follows the commit (the acknowledgement in the outbox,
the aggregates, tagging) is queued work, not part of registering.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.intake.email import email_intake
from cases.models import Case, IntakeChannel, RegistrationCounter
from cases.workflow.registration import Sender, register_item
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

MAX_STATEMENTS = 7  # issue 20 asks for at most 8
BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if not query["sql"].upper().startswith(BOOKKEEPING)]


@pytest.mark.parametrize("channel", [IntakeChannel.WEB, IntakeChannel.LETTER, IntakeChannel.PHONE, IntakeChannel.COUNTER, IntakeChannel.EMAIL])
def test_registering_a_case_takes_at_most_seven_statements_from_any_channel(channel, municipality):
    CaseFactory()  # not the year's first: the counter row exists
    with CaptureQueriesContext(connection) as captured:
        registration, created = register_item(
            channel=channel, kind="complaint", text="Ik heb een uur aan de balie gewacht.", sender=Sender(name="Aukje", email="aukje@example.nl"),
            hash_value=f"hash-{channel}", message_id=f"<m-{channel}@example.nl>" if channel == IntakeChannel.EMAIL else None,
        )
    assert created and Case.objects.filter(registration=registration).exists()
    assert len(statements(captured)) <= MAX_STATEMENTS, "\n".join(statements(captured))


def test_the_year_counter_is_made_by_the_first_registration_and_counts_on(municipality):
    first, _ = register_item(channel=IntakeChannel.WEB, kind="complaint", text="Eerste.", hash_value="one")
    second, _ = register_item(channel=IntakeChannel.WEB, kind="complaint", text="Tweede.", hash_value="two")
    year = first.registered_at.year
    assert (first.number, second.number) == (f"HLG-{year}-000001", f"HLG-{year}-000002")
    assert RegistrationCounter.objects.get(prefix="HLG", year=year).last == 2


def test_an_e_mail_is_stored_and_registered_in_a_bounded_number_of_statements(municipality):
    raw = (
        b"From: Aukje Dijkstra <a.dijkstra@ziggo.nl>\r\nTo: info@harlingen.nl\r\nSubject: Klacht over de balie\r\n"
        b"Message-ID: <queries-1@ziggo.nl>\r\n\r\nIk heb drie kwartier aan de balie gewacht; dit is een klacht.\r\n"
    )
    CaseFactory()
    with CaptureQueriesContext(connection) as captured:
        result = email_intake(raw=raw, source="eml")
    assert result.outcome in ("case", "triage")
    # Storing the raw message first (nothing lost) and claiming its identity come before the 7 of the
    # registration: 18 in all (22 while the Message-ID was looked up before it was claimed, and the row
    # saved twice). Not within 8 (README: "Intake cost"); this keeps it from growing.
    assert len(statements(captured)) <= 18, "\n".join(statements(captured))


# --- one commit per submission: a commit waits for the disk, and it is most of a request's cost -------------
def commits(captured) -> int:
    return sum(query["sql"] == "COMMIT" for query in captured.captured_queries)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_worker_a_webhook_post_stores_its_message_its_token_and_audit_entry_at_once(client, municipality, settings, monkeypatch):
    from auditlog.models import LogEntry

    from cases import dispatch
    from cases.intake import webhooks
    from cases.models import InboundMessage, WebhookToken
    from tests.test_intake_hostile import BASIC_AUTH, MAILGUN_URL, SIGNING_KEY, auth, mailgun, message

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)  # gunicorn with a broker
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append(name))
    with CaptureQueriesContext(connection) as captured:
        assert client.post(MAILGUN_URL, data=mailgun(message(), token="c" * 50), **auth()).status_code == 200
    inbound = InboundMessage.objects.get()
    assert WebhookToken.objects.filter(token="c" * 50).exists()
    assert LogEntry.objects.get_for_object(inbound).filter(action=LogEntry.Action.CREATE).count() == 1
    # No look before any insert: the unique keys refuse a replay and the same bytes twice.
    if connection.vendor == "postgresql":
        # The message's id drawn, then the token, the message and its audit entry in one INSERT, in
        # autocommit: no BEGIN, no COMMIT (``cases.one_statement``).
        assert len(captured.captured_queries) == 2, "\n".join(statements(captured))
        assert "nextval" in statements(captured)[0]
        assert all(table in statements(captured)[1] for table in ("cases_webhooktoken", "cases_inboundmessage", "auditlog_logentry"))
    else:  # SQLite, the embedded default: one transaction of three inserts
        assert commits(captured) == 1 and len(statements(captured)) == 3, "\n".join(statements(captured))
    assert queued == [dispatch.PROCESS_INBOUND]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_worker_a_web_form_submission_is_one_statement_and_writes_no_session(client, municipality, monkeypatch):
    """The citizen waits for one statement (its number and its stored submission, ``web_submissions``);
    the worker registers it with the registration's seven and its aggregate mark."""
    from django.contrib.sessions.models import Session

    from cases import dispatch
    from cases.intake.web_submissions import submission_register
    from cases.models import AggregatePending, WebSubmission

    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append((name, args)))
    data = {"kind": "complaint", "description": "Ik heb een uur aan de balie gewacht.", "name": "Aukje", "email": "aukje@example.nl",
            "address": "", "phone": "", "hint": "", "website": ""}
    from cms.models import MunicipalitySettings

    client.get("/melding/")  # a process that showed the form before: the charter's norms and the prefix are kept a minute
    MunicipalitySettings.current()
    with CaptureQueriesContext(connection) as captured:
        assert client.post("/melding/", data).status_code == 302
    if connection.vendor == "postgresql":
        assert len(captured.captured_queries) == 1, "\n".join(statements(captured))  # no BEGIN or COMMIT either: autocommit
        assert "cases_registrationcounter" in statements(captured)[0] and "cases_websubmission" in statements(captured)[0]
    else:  # SQLite (the embedded default) has no INSERT in a CTE: the counter and the row in one transaction
        assert commits(captured) == 1 and len(statements(captured)) == 2, "\n".join(statements(captured))
        assert "cases_registrationcounter" in statements(captured)[0] and "cases_websubmission" in statements(captured)[1]
    assert not Session.objects.exists() and not Case.objects.exists()
    submission = WebSubmission.objects.get()
    assert queued == [(dispatch.REGISTER_WEB, (submission.pk,))]
    with CaptureQueriesContext(connection) as captured:
        registration = submission_register(submission_id=submission.pk)
    assert commits(captured) == 1
    assert registration.number == submission.number and registration.case.public_token == submission.token
    assert AggregatePending.objects.filter(case_id=registration.case.pk).exists()  # committed with the case
    assert (dispatch.ACKNOWLEDGE, (registration.case.pk,)) in queued


def test_the_municipality_is_read_once_a_minute_and_a_save_is_seen_at_once(municipality, monkeypatch):
    """Every registration reads the prefix (``MunicipalitySettings.current``): from the database once a
    minute per process; a save in the CMS is seen by the next registration in this process."""
    import time

    from cms.kept import KEPT_SECONDS
    from cms.models import MunicipalitySettings

    with CaptureQueriesContext(connection) as captured:
        register_item(channel=IntakeChannel.WEB, kind="complaint", text="Eerste.", hash_value="one")
        register_item(channel=IntakeChannel.WEB, kind="complaint", text="Tweede.", hash_value="two")
    assert sum("cms_municipalitysettings" in sql for sql in statements(captured)) == 1
    settings = MunicipalitySettings.load()
    settings.registration_prefix = "HRL"
    settings.save()
    third, _ = register_item(channel=IntakeChannel.WEB, kind="complaint", text="Derde.", hash_value="three")
    assert third.number.startswith("HRL-")
    MunicipalitySettings.objects.update(registration_prefix="HLG")  # another process's save: no signal here
    fourth, _ = register_item(channel=IntakeChannel.WEB, kind="complaint", text="Vierde.", hash_value="four")
    assert fourth.number.startswith("HRL-")  # within the minute
    later = time.monotonic() + KEPT_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    fifth, _ = register_item(channel=IntakeChannel.WEB, kind="complaint", text="Vijfde.", hash_value="five")
    assert fifth.number.startswith("HLG-")
