"""Per-client appeal limits behind a proxy: the forwarded address counts only when trusted."""

import pytest

from tests.due_process.helpers import start

pytestmark = pytest.mark.django_db


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_ip": "2/hour"}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(2):
        assert start(f"p{n}@example.com", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 202
    assert start("p9@example.com", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 429
    assert start("p9@example.com", HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 202


def test_without_a_trusted_proxy_a_forged_header_does_not_buy_a_fresh_limit(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 0
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_ip": "2/hour"}
    for n in range(2):
        assert (
            start(f"f{n}@example.com", REMOTE_ADDR="198.51.100.3", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}").status_code == 202
        )
    refused = start("f9@example.com", REMOTE_ADDR="198.51.100.3", HTTP_X_FORWARDED_FOR="6.6.6.99")
    assert refused.status_code == 429
