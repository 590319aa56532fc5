"""Celery tasks for due process: an interface over the services, run by beat."""

from celery import shared_task

from disputes.services.notices import notices_send_pending
from disputes.services.retention import retention_purge
from riskhub.celery import RETRY_TRANSIENT


@shared_task(**RETRY_TRANSIENT)
def purge_expired_data():
    return retention_purge()


@shared_task(**RETRY_TRANSIENT)
def send_pending_dispute_notices():
    return notices_send_pending()
