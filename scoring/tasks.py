"""Celery tasks: an interface over scoring.services, nothing more.

Tasks take ids, are idempotent (scores are rebuilt from the flags), and retry transient
database errors with backoff. acks_late + reject_on_worker_lost (settings) redeliver a task
whose worker died; the sweep covers anything lost beyond that.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from scoring import services

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@shared_task(**RETRY)
def score_buyers(buyer_ids):
    return services.score_recompute(buyer_ids=buyer_ids)


@shared_task(**RETRY)
def sweep_unscored_buyers():
    return services.score_sweep()


@shared_task(**RETRY)
def expire_flags():
    return services.flags_expire()


@shared_task(**RETRY)
def rescore_aging():
    """Scores fade as flags age: rebuild every scored buyer (in chunked tasks)."""
    return services.score_rescore()


@shared_task(**RETRY)
def recompute_seller_trust():
    return services.seller_trust_recompute()
