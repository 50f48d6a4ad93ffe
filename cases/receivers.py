"""Signal receivers that connect cases to tagging, correspondence, the mail webhook and the
aggregates; connected in ``CasesConfig.ready()``."""

import logging

from anymail.signals import inbound, tracking
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases import dispatch
from cases.conversation.notify import closed_reply_notify_later
from cases.conversation.questions import question_answer_from_email
from cases.conversation.records import conversation_access, conversation_wipe
from cases.correspondence.suppression import letters_withhold
from cases.intake.bounces import handle_tracking
from cases.intake.webform import forget_hint_choices
from cases.intake.webhooks import handle_inbound_email
from cases.models import ANSWER_LETTER_KINDS
from cases.records.subject_access import case_access_data
from cases.records.wiping import case_wiping
from cases.reporting.increments import queue_refresh
from cases.signals import case_registered, citizen_reply_threaded
from cases.tagging import case_tag_later
from cases.workflow.deadlines import forget_charter_terms

logger = logging.getLogger(__name__)

inbound.connect(handle_inbound_email, dispatch_uid="handvest_inbound_email")
tracking.connect(handle_tracking, dispatch_uid="handvest_delivery_tracking")
# The web form keeps the charter's norms a minute; a norm saved here is on the next form at once.
post_save.connect(forget_hint_choices, sender="cms.ServiceNorm", dispatch_uid="webform_hint_choices")
post_save.connect(forget_charter_terms, sender="cms.ServiceNorm", dispatch_uid="workflow_charter_terms")


@receiver(case_registered, dispatch_uid="tag_new_case")
def tag_new_case(sender, case_id: int, **kwargs) -> None:
    """Every new case is tagged by a Celery task (after commit; eager in `make run`). The tagger never breaks intake:
    a failure (a corrupt model file, in eager mode run here) is logged, and the case waits for its tags
    (``ensure_tagger --tag-waiting``, the officer's own tags) while the receivers after this one still run."""
    try:
        case_tag_later(case_id=case_id)
    except Exception:
        logger.exception("could not tag case %s; it waits for its tags", case_id)


@receiver(case_registered, dispatch_uid="acknowledge_new_case")
def acknowledge_new_case(sender, case_id: int, **kwargs) -> None:
    """Every new case gets its *ontvangstbevestiging* in the outbox, once (``cases.correspondence.outbox``),
    written by a worker (eager: after the request's response), so the request that registered the case renders no letter."""
    try:
        dispatch.enqueue(dispatch.ACKNOWLEDGE, case_id)
    except Exception:
        # The registration is committed; beat's outbox relay writes the missing acknowledgement later.
        logger.exception("could not queue the acknowledgement of case %s", case_id)


# --- aggregates: keep the derived tables of cases.reporting.rollup current --------------------------


@receiver(post_save, sender="cases.Case", dispatch_uid="aggregates_case_saved")
@receiver(post_save, sender="cases.CaseNorm", dispatch_uid="aggregates_tag_saved")
@receiver(post_delete, sender="cases.CaseNorm", dispatch_uid="aggregates_tag_deleted")
def refresh_aggregates_after_change(sender, instance, raw: bool = False, created: bool = False, **kwargs) -> None:
    """A case or norm tag changed: its cells are updated after commit."""
    if raw:
        return
    is_case = sender._meta.model_name == "case"
    queue_refresh([instance.pk if is_case else instance.case_id], new=is_case and created)


@receiver(post_save, sender="cases.Registration", dispatch_uid="aggregates_registration_saved")
def refresh_aggregates_after_registration(sender, instance, raw: bool = False, created: bool = False, **kwargs) -> None:
    """A corrected date of receipt or channel moves the case in the aggregates (a new one has no case yet)."""
    if raw or created:
        return
    queue_refresh(list(sender.objects.filter(pk=instance.pk, case__isnull=False).values_list("case__pk", flat=True)))


@receiver(post_save, sender="cases.OutgoingMessage", dispatch_uid="aggregates_letter_saved")
def refresh_aggregates_after_a_letter(sender, instance, raw: bool = False, **kwargs) -> None:
    """The day the acknowledgement left counts for our own compliance figures; so does the answer's, which
    is not given while its letter waits (``rollup.fact_queryset``): every change of an answer letter counts."""
    if raw:
        return
    if instance.kind in ANSWER_LETTER_KINDS or (instance.kind == "acknowledgement" and (instance.sent_at or instance.posted_at)):
        queue_refresh([instance.case_id])


# --- letters: one written earlier whose reason to go has gone stays home ----------------------------------


@receiver(post_save, sender="cases.Case", dispatch_uid="letters_withheld_when_case_ends")
def withhold_letters_of_an_ended_case(sender, instance, raw: bool = False, **kwargs) -> None:
    """A case answered, closed or merged: in the same transaction, an acknowledgement still waiting (the charter's
    answered-at-once exception) or any letter of a merged case leaves the outbox and the print queue."""
    if raw or not (instance.merged_into_id is not None or instance.is_answered()):
        return
    letters_withhold(instance)


# --- the conversation: a threaded reply of the citizen answers their open question ------------------


@receiver(citizen_reply_threaded, dispatch_uid="conversation_reply_by_email")
def answer_open_question_by_email(sender, case_id: int, inbound, **kwargs) -> None:
    """Inside the intake's transaction; a refusal is logged and leaves the reply on the timeline only.
    A mail about a closed case is brought to its handler's notice instead."""
    question_answer_from_email(case_id=case_id, inbound=inbound)
    closed_reply_notify_later(case_id=case_id, inbound_id=inbound.pk)


# --- records: the conversation's words are personal data of the case too ----------------------------


@receiver(case_wiping, dispatch_uid="conversation_wiped_with_the_case")
def wipe_the_conversation(sender, case_ids, **kwargs) -> None:
    """Inside the wipe's transaction: a failure here leaves the whole case unwiped, to be run again."""
    conversation_wipe(case_ids)


@receiver(case_access_data, dispatch_uid="conversation_in_access_exports")
def conversation_in_access_export(sender, case, **kwargs) -> list[dict]:
    return conversation_access(case)
