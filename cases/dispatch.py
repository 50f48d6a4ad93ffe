"""Queueing Celery work from the services without importing the tasks.

The arrows run one way: ``cases.tasks`` imports the services and calls them; a service that
wants work done later names the task here and queues it, after its transaction commits. The
names are the tasks' registered names (``cases/tasks.py`` uses the same constants), so a
renamed task cannot silently drop work. ``CasesConfig.ready`` imports ``cases.tasks``, so every
process that runs Django knows the tasks, and eager mode (``make run``) still runs them in-process.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_LETTER = "cases.send_letter"
ACKNOWLEDGE = "cases.acknowledge"  # write a new case's acknowledgement to the outbox, off the web request
OUTBOX_RELAY = "cases.outbox_relay"
INBOUND_RELAY = "cases.inbound_relay"
PROCESS_INBOUND = "cases.process_inbound"  # a stored message, processed by a worker (cases.intake.email)
REGISTER_WEB = "cases.register_web"  # a stored web form submission, registered by a worker (cases.intake.web_submissions)
DEADLINE_DIGEST = "cases.deadline_digest"
TAG_CASE = "cases.tag_case"
RETRAIN_TAGGER = "cases.retrain_tagger"
REFRESH_AGGREGATES = "cases.refresh_aggregates"
REBUILD_AGGREGATES = "cases.rebuild_aggregates"
DESTROY_LIST = "cases.destroy_list"  # cases.records.destruction: an approved destruction list
NOTIFY_REPLY = "cases.notify_reply"  # cases.conversation.notify: tell the officer the citizen answered
NOTIFY_CLOSED_REPLY = "cases.notify_closed_reply"  # cases.conversation.notify: the citizen wrote about a closed case
CONSENTS_EXPIRE = "cases.consents_expire"  # cases.conversation.consent: requests nobody can answer any more
LOOSE_MAIL_EXPIRE = "cases.loose_mail_expire"  # cases.records.loose_mail: mail without a case, past its term
PUBLISH_SCHEDULED = "cases.publish_scheduled"  # Wagtail's scheduled publishing and expiry (norms, the charter page)
SATISFACTION_SURVEY = "cases.satisfaction_survey"  # cases.conversation.satisfaction: ask closed cases once


# Citizen mail goes on its own queue, ahead of housekeeping (aggregates, tagging, training): a
# worker on "mail" never waits behind a storm of refreshes (``CELERY_TASK_ROUTES`` in settings).
MAIL_QUEUE = "mail"
HOUSEKEEPING_QUEUE = "celery"
# A web form's registration goes with them: the citizen's acknowledgement waits for it.
MAIL_TASKS = (REGISTER_WEB, ACKNOWLEDGE, SEND_LETTER, OUTBOX_RELAY, DEADLINE_DIGEST)


def runs_eagerly() -> bool:
    """Tasks run in this process (no worker: ``make run`` and the tests)."""
    return bool(current_app.conf.task_always_eager)


# With a worker, only these wait for the response before they are published: if the process dies
# in between, beat's relays do their work (a missing acknowledgement, a letter never tried, mail
# stored but not processed, pending counts). The others (tagging, a destruction list, a reply's
# notice) have no relay, and are published as soon as they are queued.
RELAYED_TASKS = (REGISTER_WEB, ACKNOWLEDGE, SEND_LETTER, PROCESS_INBOUND, REFRESH_AGGREGATES)

# Tasks without arguments that take whatever is waiting (the aggregates' pending cases): run once for a
# whole request in eager mode instead of after every commit in it (``AfterResponseMiddleware``).
COALESCED_TASKS = (REFRESH_AGGREGATES,)


class _Batch:
    def __init__(self, *, after_response: bool = False) -> None:
        self.tasks: set[str] = set()
        self.calls: dict[Callable, set] = {}
        # A request's batch keeps every task it queues for after its response (``AfterResponseMiddleware``).
        self.after_response = after_response
        self.later: list[tuple[str, tuple, dict, int | None]] = []

    def empty(self) -> bool:
        return not (self.tasks or self.calls or self.later)


_batched: ContextVar[_Batch | None] = ContextVar("handvest_request_batch", default=None)


def enqueue(name: str, *args, countdown: int | None = None, **kwargs):
    """Queue task ``name`` now; in a request, once its response is ready (``AfterResponseMiddleware``).

    Eager mode runs it in this process (at the end of a request's batch for a coalesced task)."""
    batch = _batched.get()
    if batch is not None:
        if runs_eagerly() and name in COALESCED_TASKS and not (args or kwargs or countdown):
            batch.tasks.add(name)
            return None
        if batch.after_response and (name in RELAYED_TASKS or runs_eagerly()):
            batch.later.append((name, args, kwargs, countdown))
            return None
    return current_app.tasks[name].apply_async(args, kwargs, countdown=countdown)


def batch_later(function: Callable[[list], None], items) -> bool:
    """In an eager request, collect ``items`` for ``function``, called once with all of them (sorted)
    when the request's work is done, before its coalesced tasks; False otherwise (the caller calls it itself)."""
    batch = _batched.get()
    if batch is None or not runs_eagerly():
        return False
    batch.calls.setdefault(function, set()).update(items)
    return True


@contextmanager
def _collecting(batch: _Batch):
    """Collect into ``batch`` in the block; when it ends, run what was collected (``_finish``)."""
    token = _batched.set(batch)
    try:
        yield
    finally:
        _batched.reset(token)
        _finish(batch)


def _finish(batch: _Batch) -> None:
    for function, items in batch.calls.items():
        try:
            function(sorted(items))
        except Exception:
            logger.exception("eager work %s after the request failed", getattr(function, "__name__", function))
    for name in sorted(batch.tasks):
        try:
            enqueue(name)
        except Exception:
            # As ``robust`` on_commit work: what is pending stays pending for the next count.
            logger.exception("eager task %s after the request failed", name)


class AfterResponseMiddleware:
    """The work a request queues goes after its response: the citizen never waits for it.

    A WSGI server calls the response's ``close()`` once it has sent the response (PEP 3333; gunicorn,
    ``runserver`` and Django's test client do), and that is where the request's tasks go, in this
    thread, with the request's trace id:

    - with a worker, the ones a relay makes good (``RELAYED_TASKS``) are put on the broker there: a
      process that dies before, or a broker that is down, leaves their work to beat's relays (a stored
      e-mail to the inbound relay, a missing acknowledgement to the outbox relay). The others are
      published when queued, as before.
    - in eager mode (``make run``) they run there: citizen mail first, otherwise in the order queued,
      and the aggregate count once at the end. A first tagging (loading or training the model takes
      seconds), the acknowledgement's letter and the counts never hold the thank-you page, and a task
      that fails there is logged, as a worker's would be, never shown as an error page for a
      registered complaint.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = contextvars.copy_context()
        batch = _Batch(after_response=True)
        token = _batched.set(batch)
        try:
            response = self.get_response(request)
        finally:
            _batched.reset(token)
        if not batch.empty():
            close = response.close

            def close_after_work():
                try:
                    context.run(_after_response, batch)
                finally:
                    close()

            response.close = close_after_work
        return response


def _after_response(batch: _Batch) -> None:
    batch.after_response = False  # what the tasks queue in turn goes at once
    with _collecting(batch):
        # Citizen mail first, as the workers' queues have it: an acknowledgement never waits for a tagging.
        for name, args, kwargs, countdown in sorted(batch.later, key=lambda task: task[0] not in MAIL_TASKS):
            try:
                enqueue(name, *args, countdown=countdown, **kwargs)
            except Exception:
                # A task that failed (eager) or was not queued (the broker is down): what it left (a
                # stored e-mail, an outbox row, a pending mark) is taken up by the relays or the next count.
                logger.exception("task %s after the response failed", name)


def enqueue_on_commit(name: str, *args, robust: bool = False, **kwargs) -> None:
    """Queue task ``name`` once the current transaction commits (at once outside one).

    ``robust``: an error while queueing is logged by Django and never breaks the caller.
    """
    transaction.on_commit(lambda: enqueue(name, *args, **kwargs), robust=robust)
