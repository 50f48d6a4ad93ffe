"""Tagging tasks: tag a new case; retrain the tagger weekly (Celery beat)."""

from celery import shared_task

from cases.services.tagger import case_tag, tagger_train

__all__ = ["retrain_tagger", "tag_case"]


# Tagging reads only; retrying after a crash is safe (suggestions are stored idempotently).
@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def tag_case(self, case_id: int, replace: bool = False) -> int:
    return len(case_tag(case_id=case_id, replace=replace))


@shared_task(acks_late=True)
def retrain_tagger() -> str:
    model, activated, reason = tagger_train(force=False)
    return f"{model.version[:12]}: {reason}"
