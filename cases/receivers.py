"""Signal receivers that connect cases to tagging and correspondence; connected in CasesConfig.ready()."""

from django.conf import settings
from django.dispatch import receiver

from cases.signals import case_registered


@receiver(case_registered, dispatch_uid="tag_new_case")
def tag_new_case(sender, case_id: int, **kwargs) -> None:
    """Every new case is tagged by a Celery task (after commit; eager in `make run`)."""
    if settings.HANDVEST_TAG_ON_REGISTRATION:
        from cases.tasks.tagging import tag_case

        tag_case.delay(case_id)
