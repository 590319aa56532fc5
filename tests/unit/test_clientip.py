"""Whom to believe about the client's address (riskhub.clientip)."""

import pytest
from django.test import RequestFactory

from riskhub.clientip import client_ip


def request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def no_proxy(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 0


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["10.0.0.0/8", "192.0.2.1"], 0


def test_without_trusted_proxies_the_header_is_ignored(no_proxy):
    assert client_ip(request("198.51.100.9", "203.0.113.5")) == "198.51.100.9"


def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(proxies):
    assert client_ip(request("10.1.1.1", "203.0.113.5")) == "203.0.113.5"
    assert client_ip(request("10.1.1.1", "203.0.113.5, 10.2.2.2, 192.0.2.1")) == "203.0.113.5"


def test_a_client_cannot_spoof_its_address_through_the_header(proxies):
    # The client wrote "6.6.6.6"; the proxy appended the address it really saw.
    assert client_ip(request("10.1.1.1", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
    # A request that bypasses the proxy: its header is not believed at all.
    assert client_ip(request("198.51.100.9", "6.6.6.6")) == "198.51.100.9"


def test_garbage_where_the_client_should_be_falls_back_to_the_socket(proxies):
    assert client_ip(request("10.1.1.1", "not-an-ip")) == "10.1.1.1"
    assert client_ip(request("10.1.1.1", "")) == "10.1.1.1"


def test_a_proxy_count_takes_the_nth_address_from_the_right(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 1
    assert client_ip(request("10.1.1.1", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request("10.1.1.1", "6.6.6.6, 203.0.113.5")) == "6.6.6.6"
    assert client_ip(request("10.1.1.1")) == "10.1.1.1"


def test_ipv6_addresses_work(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["fd00::/8"], 0
    assert client_ip(request("fd00::1", "2001:db8::7")) == "2001:db8::7"
