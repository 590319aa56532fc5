"""Celery tasks: an interface over scoring.services, nothing more.

Tasks take ids, are idempotent (scores are rebuilt from the flags), and retry transient
database errors with backoff. acks_late + reject_on_worker_lost (settings) redeliver a task
whose worker died; the sweep covers anything lost beyond that.
"""

from celery import shared_task

from identity.marks import SCORE_TASK
from riskhub.celery import RETRY_TRANSIENT
from scoring import services


@shared_task(name=SCORE_TASK, **RETRY_TRANSIENT)
def score_buyers(buyer_ids):
    return services.score_recompute(buyer_ids=buyer_ids, marked_only=True)


@shared_task(**RETRY_TRANSIENT)
def sweep_unscored_buyers():
    return services.score_sweep()


@shared_task(**RETRY_TRANSIENT)
def expire_flags():
    return services.flags_expire()


@shared_task(**RETRY_TRANSIENT)
def rescore_aging():
    """Scores fade as flags age: rebuild every scored buyer (in chunked tasks)."""
    return services.score_rescore()


@shared_task(**RETRY_TRANSIENT)
def recompute_seller_trust():
    return services.seller_trust_recompute()
