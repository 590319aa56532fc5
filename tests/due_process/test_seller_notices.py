"""Seller notices that fail for good stop retrying and show in the admin's queue.

A real (tiny) SMTP server on a local socket answers as a mail server would: 550 for an address
it refuses, 451 while it is unwell.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from blacklist.models import AuditEvent
from disputes.models import Dispute
from disputes.services.notices import NOTICE_FAILED, notices_send_pending
from tests.due_process.helpers import appeal, buyer_token, flag

pytestmark = pytest.mark.django_db
EMAIL = "buyer@example.com"


def appealed(seller, settings, django_capture_on_commit_callbacks, smtp):
    flagged = flag(seller, email=EMAIL)
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    token = buyer_token(EMAIL)  # the code comes through the test outbox
    settings.EMAIL_BACKEND = backend
    with django_capture_on_commit_callbacks(execute=True):
        assert appeal(token, flagged["id"]).status_code == 201
    return Dispute.objects.get()


def queue_page(query=""):
    user = get_user_model().objects.filter(username="staff").first() or get_user_model().objects.create_superuser(
        username="staff", email="staff@staff.example"
    )
    client = Client()
    client.force_login(user)
    return client.get(f"/admin/disputes/dispute/{query}").content.decode()


def test_a_refused_seller_address_is_given_up_at_once_and_shows_in_the_admin(
    seller_a, settings, django_capture_on_commit_callbacks, smtp, mailoutbox
):
    smtp.rcpt_answer = "550 5.1.1 no such user"
    dispute = appealed(seller_a, settings, django_capture_on_commit_callbacks, smtp)
    assert len(smtp.rcpts) == 1
    event = AuditEvent.objects.get(flag_id=dispute.flag_id, action=NOTICE_FAILED)
    assert event.note.startswith(f"dispute {dispute.pk}: ")
    assert Dispute.objects.get().seller_notified_at is None

    Dispute.objects.update(created_at=dispute.created_at - timedelta(minutes=10))
    assert notices_send_pending() == 0
    assert len(smtp.rcpts) == 1, "a notice given up is not retried"
    page = queue_page("?notice=failed")
    assert str(dispute.pk)[:8] in page and "FAILED" in page
    assert str(dispute.pk)[:8] not in queue_page("?notice=pending")


def test_a_notice_that_keeps_failing_is_retried_then_given_up(
    seller_a, settings, django_capture_on_commit_callbacks, smtp, mailoutbox
):
    smtp.rcpt_answer = "451 4.3.0 try again later"
    dispute = appealed(seller_a, settings, django_capture_on_commit_callbacks, smtp)
    assert not AuditEvent.objects.filter(action=NOTICE_FAILED).exists()
    Dispute.objects.update(created_at=dispute.created_at - timedelta(minutes=10))
    assert notices_send_pending() == 0
    assert len(smtp.rcpts) == 2, "a temporary failure is retried"
    assert str(dispute.pk)[:8] in queue_page("?notice=pending")

    Dispute.objects.update(created_at=dispute.created_at - timedelta(days=8))
    notices_send_pending()
    assert len(smtp.rcpts) == 2, "past the give-up age: no more tries"
    assert AuditEvent.objects.filter(flag_id=dispute.flag_id, action=NOTICE_FAILED).count() == 1
    notices_send_pending()
    assert AuditEvent.objects.filter(flag_id=dispute.flag_id, action=NOTICE_FAILED).count() == 1
    assert "FAILED" in queue_page("?notice=failed")


def test_a_delivered_notice_is_sent(seller_a, settings, django_capture_on_commit_callbacks, smtp, mailoutbox):
    appealed(seller_a, settings, django_capture_on_commit_callbacks, smtp)
    assert Dispute.objects.get().seller_notified_at is not None
    assert not AuditEvent.objects.filter(action=NOTICE_FAILED).exists()
