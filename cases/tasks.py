"""Celery tasks of cases: thin, like views. A task takes ids, calls one service, and says why it
retries the way it does. Services never import this module: they queue work by name through
``cases.dispatch`` (the names here are its constants). The beat schedule is in ``config/celery.py``.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.core.management import call_command
from django.db import OperationalError

from cases import dispatch
from cases.conversation.consent import consents_expire
from cases.conversation.notify import closed_reply_notify, reply_notify
from cases.conversation.satisfaction import surveys_send
from cases.correspondence import delivery, outbox
from cases.correspondence.digest import deadline_digest_send
from cases.intake.email import inbound_pending, inbound_resume
from cases.intake.web_submissions import submission_register, submissions_waiting
from cases.models import OutboxStatus
from cases.records.destruction import destruction_list_execute
from cases.records.loose_mail import loose_mail_expire
from cases.reporting.increments import rebuild_with_drift_check, refresh_pending
from cases.reporting.rollup import rollup_refresh
from cases.tagging import case_tag, tagger_train

logger = logging.getLogger(__name__)

# --- correspondence --------------------------------------------------------------------------------
# The back-off and the number of attempts are the outbox's (``delivery.SEND_MAX_ATTEMPTS``): the row
# counts its attempts and says when the next is due, so the relay can take over a chain that was lost;
# acks_late redelivers the task if a worker dies meanwhile.
@shared_task(name=dispatch.SEND_LETTER, bind=True, max_retries=delivery.SEND_MAX_ATTEMPTS - 1, acks_late=True)
def send_outgoing_message(self, outgoing_id: int) -> str:
    """Send outbox row ``outgoing_id`` once; a second delivery finds it sent and does nothing."""
    try:
        return delivery.outgoing_send(outgoing_id=outgoing_id)
    except delivery.DeliveryError as exc:
        message = delivery.outgoing_record_failure(outgoing_id=outgoing_id, error=str(exc), final=self.request.retries >= self.max_retries)
        if message is None or message.status != OutboxStatus.QUEUED:
            return "failed"
        raise self.retry(exc=exc, countdown=delivery.retry_countdown(message))


# The letter is rendered (and, with no hold, sent) here, not in the request that registered the case;
# idempotent (one outbox row per case, sent once), and a case whose task was lost is acknowledged by
# the relay below after a few minutes.
@shared_task(name=dispatch.ACKNOWLEDGE, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def acknowledge(case_id: int) -> str:
    return delivery.acknowledgement_send(case_id=case_id)


@shared_task(name=dispatch.OUTBOX_RELAY)
def outbox_relay() -> dict[str, int]:
    """Beat, every few minutes: write missing acknowledgements, release held ones, requeue lost ones,
    and show letters whose sending was interrupted as unknown."""
    unknown = delivery.outgoing_mark_unknown()
    written = 0
    for case_id in outbox.cases_missing_acknowledgement():
        try:
            if outbox.acknowledgement_queue(case_id=case_id) is not None:
                written += 1
        except Exception:
            logger.exception("could not write the acknowledgement of case %s", case_id)
    due = outbox.outbox_due()
    for outgoing_id in due:
        send_outgoing_message.delay(outgoing_id)
    if written or due or unknown:
        logger.info("outbox relay: %s acknowledgement(s) written, %s message(s) queued, %s unknown", written, len(due), len(unknown))
    return {"written": written, "queued": len(due), "unknown": len(unknown)}


# A webhook's stored message, processed here rather than in the web request (the kind is decided with
# the tagger, which only workers load). Idempotent: a message processed meanwhile is left as it is.
@shared_task(name=dispatch.PROCESS_INBOUND, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def process_inbound(inbound_id: int) -> str:
    return inbound_resume(inbound_id=inbound_id, deferred=True).outcome


# A web form's stored submission, registered here rather than in the web request (its citizen waits
# only for the stored row). Idempotent: a submission registered meanwhile is left as it is.
@shared_task(name=dispatch.REGISTER_WEB, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def register_web(submission_id: int) -> str:
    registration = submission_register(submission_id=submission_id)
    return registration.number if registration is not None else "registered before"


@shared_task(name=dispatch.INBOUND_RELAY)
def inbound_relay() -> int:
    """Beat, every few minutes: register the web form submissions, and process the mail, a crash left stored.
    One that fails is logged and waits for the next round; the others still get their turn."""
    waiting = submissions_waiting()
    for submission_id in waiting:
        logger.warning("web submission %s was stored but not registered; registering it now", submission_id)
        try:
            submission_register(submission_id=submission_id)
        except Exception:
            logger.exception("web submission %s could not be registered", submission_id)
    pending = inbound_pending()
    for inbound_id in pending:
        try:
            inbound_resume(inbound_id=inbound_id)
        except Exception:  # e.g. its raw file is gone: the message stays for a person, the relay goes on
            logger.exception("stored mail %s could not be processed", inbound_id)
    return len(pending) + len(waiting)


# Retried on errors (the mail server may be down); the day's DeadlineDigest row keeps it to one mail.
@shared_task(name=dispatch.DEADLINE_DIGEST, autoretry_for=(Exception,), retry_backoff=300, max_retries=3)
def deadline_scan_daily() -> str:
    """Beat, every weekday morning: the deadline digest (skips holidays and closing days itself)."""
    return deadline_digest_send()


# --- tagging ---------------------------------------------------------------------------------------
# Tagging reads only; retrying after a crash is safe (suggestions are stored idempotently).
@shared_task(name=dispatch.TAG_CASE, bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def tag_case(self, case_id: int, replace: bool = False) -> int:
    return len(case_tag(case_id=case_id, replace=replace))


@shared_task(name=dispatch.RETRAIN_TAGGER, acks_late=True)
def retrain_tagger() -> str:
    model, activated, reason = tagger_train(force=False)
    return f"{model.version[:12]}: {reason}"


# --- aggregates ------------------------------------------------------------------------------------
# Idempotent: a case's refresh recounts its own cells from its facts, so a deadlock or a dropped
# connection is worth a few retries; what a lost task leaves pending the next one takes.
@shared_task(name=dispatch.REFRESH_AGGREGATES, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_aggregates(months: list[str] | None = None) -> int:
    """Count the changed cases (``AggregatePending``); ``months`` (ISO dates): recount those months whole."""
    if months:
        return rollup_refresh(months=[datetime.date.fromisoformat(month) for month in months]).facts
    return refresh_pending()


@shared_task(name=dispatch.REBUILD_AGGREGATES, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def rebuild_aggregates() -> int:
    """Recount all derived tables (nightly, by beat) and report drift; returns the number of drifted cells."""
    return rebuild_with_drift_check()


# --- records: destruction after the archivist's approval ---------------------------------------------
# Each case is destroyed in its own transaction and a rerun skips what is done, so a worker that dies
# midway (acks_late: the task is delivered again) or a database hiccup (a few retries) only resumes it.
@shared_task(name=dispatch.DESTROY_LIST, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def destroy_list(list_id: int) -> dict:
    """Destroy the personal data of an approved destruction list's cases and keep the statement."""
    return destruction_list_execute(list_id=list_id).as_dict()


# Each item in its own transaction and only what is still unwiped: a rerun resumes, a retry doubles nothing.
@shared_task(name=dispatch.LOOSE_MAIL_EXPIRE, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def expire_loose_mail() -> dict:
    """Wipe the mail that never became part of a case once its term has passed."""
    return loose_mail_expire().as_dict()


# Wagtail's own command: a norm or the charter page revised with "go live at" or "expire at" in the editor.
@shared_task(name=dispatch.PUBLISH_SCHEDULED)
def publish_scheduled() -> None:
    """Publish the revisions whose time came and unpublish what expired."""
    call_command("publish_scheduled")


# --- the conversation: the one satisfaction question after closure ----------------------------------
# Idempotent (one survey per case, a fixed outbox key), so a database hiccup is worth a few retries;
# a case that fails is logged and asked on the next day's run.
@shared_task(name=dispatch.SATISFACTION_SURVEY, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def satisfaction_survey() -> int:
    """Ask the citizens of cases closed some working days ago, once, how satisfied they were."""
    return surveys_send()


# Idempotent: a request expires once (row lock, status checked again); retried when the database is away.
@shared_task(name=dispatch.CONSENTS_EXPIRE, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def expire_consents() -> int:
    """Requests to wait longer that nobody can answer any more become 'verlopen'."""
    return consents_expire()


# At most once: the question is marked notified before the mail goes, so no retries (a lost nudge is
# harmless: the reply also waits in the officers' queue "Gesprekken").
@shared_task(name=dispatch.NOTIFY_REPLY)
def notify_reply(question_id: int) -> str:
    """Tell the case's handler that the citizen answered their question."""
    return reply_notify(question_id=question_id)


@shared_task(name=dispatch.NOTIFY_CLOSED_REPLY)
def notify_closed_reply(case_id: int, inbound_id: int) -> str:
    """Tell who handles the case that the citizen wrote after it closed."""
    return closed_reply_notify(case_id=case_id, inbound_id=inbound_id)
