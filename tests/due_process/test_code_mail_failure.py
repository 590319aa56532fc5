"""A code mail the mail server refuses: the code is voided, and no log line quotes the address."""

import logging

import pytest

from disputes.models import AppealCode
from tests.due_process.helpers import flag, start

pytestmark = pytest.mark.django_db
EMAIL = "refused.buyer@example.com"


def test_a_refused_code_mail_voids_the_code_and_logs_no_address(seller_a, smtp, caplog):
    flag(seller_a, email=EMAIL)
    smtp.rcpt_answer = "550 5.1.1 <refused.buyer@example.com>: no such user"
    with caplog.at_level(logging.INFO):
        assert start(EMAIL).status_code == 202  # the buyer is answered as always
    assert smtp.rcpts, "the worker's half tried to mail the code"
    assert AppealCode.objects.exists()
    assert not AppealCode.objects.filter(used_at__isnull=True).exists(), "an unsent code is void"
    assert "could not send an appeal code (SMTPRecipientsRefused)" in caplog.text
    assert "refused.buyer" not in caplog.text.lower()
