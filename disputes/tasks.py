"""Celery tasks for due process: an interface over the services, run by beat or by requests."""

import logging

from celery import shared_task

from disputes.services.appeals import CodeMailFailed, appeal_code_issue
from disputes.services.notices import notices_send_pending
from disputes.services.retention import retention_purge
from riskhub.celery import RETRY_TRANSIENT

logger = logging.getLogger(__name__)


@shared_task(**RETRY_TRANSIENT)
def purge_expired_data():
    return retention_purge()


@shared_task(**RETRY_TRANSIENT)
def send_pending_dispute_notices():
    return notices_send_pending()


@shared_task(**{**RETRY_TRANSIENT, "autoretry_for": (*RETRY_TRANSIENT["autoretry_for"], CodeMailFailed)})
def send_appeal_code(sealed_email):
    """Mail a one-time code (off the request; the argument is sealed, never the address)."""
    return appeal_code_issue(sealed_email=sealed_email)


def appeal_code_send_later(sealed_email):
    """Queue the code mail. A broker outage is logged: the buyer, answered 202 anyway, can ask again."""
    try:
        send_appeal_code.delay(sealed_email)
    except Exception as exc:
        logger.warning("could not queue an appeal code mail (%s)", exc.__class__.__name__)
