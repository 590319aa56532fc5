"""Celery tasks for due process: an interface over the services, run by beat."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from disputes.services.notices import notices_send_pending
from disputes.services.retention import retention_purge

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRY)
def purge_expired_data():
    return retention_purge()


@shared_task(**RETRY)
def send_pending_dispute_notices():
    return notices_send_pending()
