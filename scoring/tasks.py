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
