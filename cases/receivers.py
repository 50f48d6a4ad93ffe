"""Signal receivers that connect cases to tagging and correspondence; connected in CasesConfig.ready()."""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases.intake import webhooks  # noqa: F401  (connects the anymail inbound receiver)
from cases.signals import case_registered

logger = logging.getLogger(__name__)


@receiver(case_registered, dispatch_uid="tag_new_case")
def tag_new_case(sender, case_id: int, **kwargs) -> None:
    """Every new case is tagged by a Celery task (after commit; eager in `make run`)."""
    from cases.services.tagger import case_tag_later

    case_tag_later(case_id=case_id)


@receiver(case_registered, dispatch_uid="acknowledge_new_case")
def acknowledge_new_case(sender, case_id: int, **kwargs) -> None:
    """Every new case gets its *ontvangstbevestiging* in the outbox, once (cases.services.correspondence)."""
    from cases.services.correspondence import acknowledgement_queue

    try:
        acknowledgement_queue(case_id=case_id)
    except Exception:
        # The registration is committed; beat's outbox relay writes the missing acknowledgement later.
        logger.exception("could not write the acknowledgement of case %s", case_id)


@receiver(post_save, sender="cases.CaseEvent", dispatch_uid="reroute_bounced_letter")
def reroute_bounced_letter(sender, instance, created: bool, **kwargs) -> None:
    """A letter that bounced for good (the intake's 'bounce' note) goes again by post, after commit."""
    data = instance.data or {}
    if not created or instance.name != "bounce" or not data.get("permanent") or not data.get("returned_message_id"):
        return
    from cases.services.correspondence import outgoing_reroute_to_post

    transaction.on_commit(lambda: outgoing_reroute_to_post(message_id=data["returned_message_id"]))


# --- aggregates: keep the derived tables of cases.services.rollup current --------------------------


@receiver(post_save, sender="cases.Case", dispatch_uid="aggregates_case_saved")
@receiver(post_save, sender="cases.CaseNorm", dispatch_uid="aggregates_tag_saved")
@receiver(post_delete, sender="cases.CaseNorm", dispatch_uid="aggregates_tag_deleted")
def refresh_aggregates_after_change(sender, instance, raw: bool = False, **kwargs) -> None:
    """A case or norm tag changed: its month of receipt is recomputed after commit."""
    if raw:
        return
    from cases.services.rollup import rollup_queue_refresh

    rollup_queue_refresh(case_ids=[instance.pk if sender._meta.model_name == "case" else instance.case_id])


@receiver(post_save, sender="cases.Registration", dispatch_uid="aggregates_registration_saved")
def refresh_aggregates_after_registration(sender, instance, raw: bool = False, created: bool = False, **kwargs) -> None:
    """A corrected date of receipt or channel moves the case in the aggregates (a new one has no case yet)."""
    if raw or created:
        return
    from cases.services.rollup import rollup_queue_refresh

    rollup_queue_refresh(case_ids=list(sender.objects.filter(pk=instance.pk, case__isnull=False).values_list("case__pk", flat=True)))


@receiver(post_save, sender="cases.OutgoingMessage", dispatch_uid="aggregates_letter_saved")
def refresh_aggregates_after_acknowledgement(sender, instance, raw: bool = False, **kwargs) -> None:
    """The day the acknowledgement left counts for our own compliance figures."""
    if raw or instance.kind != "acknowledgement" or not (instance.sent_at or instance.printed_at):
        return
    from cases.services.rollup import rollup_queue_refresh

    rollup_queue_refresh(case_ids=[instance.case_id])
