"""Rate limits: token buckets, batches priced per item, and a Redis that stops answering."""

import logging
import os
import socket
import subprocess
import sys
import time

import pytest
from django.test import override_settings

from riskhub import metrics, ratelimit
from riskhub.ratelimit import Leases, RateLimited, hit
from tests import stack

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_buckets():
    from django.core.cache import cache

    cache.clear()
    yield
    ratelimit.forget()


def test_a_bucket_spends_its_burst_then_refills_one_unit_at_a_time():
    key = f"test:bucket:{time.monotonic_ns()}"
    for _ in range(4):
        hit(key, limit=4, window=2)
    with pytest.raises(RateLimited) as refused:
        hit(key, limit=4, window=2)
    assert refused.value.headers["Retry-After"] == "1"
    assert refused.value.status == 429
    time.sleep(0.55)  # one unit comes back every 0.5 s: no window edge where all four return at once
    hit(key, limit=4, window=2)
    with pytest.raises(RateLimited):
        hit(key, limit=4, window=2)


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "leases"}}


@pytest.fixture(params=["shared", "locmem"])
def cache_kind(request):
    """The configured cache (Redis on the real stack) and the in-memory one of `make run`."""
    if request.param == "shared":
        yield request.param
        return
    with override_settings(CACHES=LOCMEM):
        from django.core.cache import caches

        caches["default"].clear()
        yield request.param


def drain(processes, key, *, limit, window):
    """Hit `key` from several processes in turn until every one of them is refused in a row;
    returns how many requests were admitted."""
    admitted, refused_in_a_row = 0, 0
    while refused_in_a_row < len(processes):
        for leases in processes:
            try:
                hit(key, limit=limit, window=window, leases=leases)
            except RateLimited:
                refused_in_a_row += 1
            else:
                admitted, refused_in_a_row = admitted + 1, 0
    return admitted


def counting_trips(monkeypatch):
    trips = []
    real = ratelimit._charge

    def charge(*args, **kwargs):
        trips.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "_charge", charge)
    return trips


def test_leased_units_never_let_two_processes_past_the_limit(cache_kind, monkeypatch):
    """Two web processes on one bucket of 1,000 (a day's window: no refill during the test) admit
    exactly 1,000 between them, though most requests never reach the shared cache."""
    trips = counting_trips(monkeypatch)
    admitted = drain([Leases(), Leases()], f"test:lease:{time.monotonic_ns()}", limit=1000, window=86400)
    assert admitted == 1000
    assert len(trips) < admitted / 3, len(trips)  # leases of up to 10 units (1% of the bucket)
    assert max(t["lease"] for t in trips) == 10


def test_leftover_units_go_back_to_the_bucket(cache_kind, monkeypatch):
    """With leases expiring at once, every trip returns the units the last one leased: nothing is
    lost, so the bucket still admits its whole limit."""
    monkeypatch.setattr(ratelimit, "LEASE_SECONDS", 0.0)
    trips = counting_trips(monkeypatch)
    admitted = drain([Leases(), Leases()], f"test:refund:{time.monotonic_ns()}", limit=500, window=86400)
    assert admitted == 500
    assert sum(t["back"] for t in trips) > 0


def test_a_limit_under_a_hundred_is_charged_request_by_request(cache_kind, monkeypatch):
    trips = counting_trips(monkeypatch)
    assert drain([Leases()], f"test:exact:{time.monotonic_ns()}", limit=99, window=86400) == 99
    assert {(t["lease"], t["back"]) for t in trips} == {(0, 0)}


def test_a_batch_costs_one_unit_per_item(seller_a, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "flags": "10/hour"}

    def batch(n, tag):
        items = [
            {"buyer": {"email": f"{tag}{i}@example.com"}, "reason": "refund_abuse", "order_ref": f"{tag}-{i}"}
            for i in range(n)
        ]
        return seller_a.post("/api/v1/flags/batch", {"flags": items})

    assert batch(6, "a").status_code == 200
    refused = batch(6, "b")  # 4 units left: six items do not fit
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert batch(4, "c").status_code == 200  # exactly what is left
    assert seller_a.get("/api/v1/flags").status_code == 429


class Blackhole:
    """A TCP port that accepts connections (the kernel's backlog) and never answers: a hung Redis."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"
        return self

    def __exit__(self, *exc):
        self.sock.close()


def hung_cache(url, timeout):
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "riskhub",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


@pytest.mark.skipif(not stack.REAL_STACK, reason="needs the redis client against a real socket")
def test_a_redis_that_stops_answering_costs_one_short_timeout_and_fails_open(seller_a, caplog, settings):
    settings.RATE_LIMIT_BREAKER_SECONDS = 30
    before = metrics.value("riskhub_ratelimit_fail_open_total")
    body = {"buyer": {"email": "hung@example.com"}}
    with (
        Blackhole() as redis_down,
        override_settings(CACHES=hung_cache(redis_down.url, 0.2)),
        caplog.at_level(logging.WARNING, logger="riskhub.ratelimit"),
    ):
        began = time.monotonic()
        first = seller_a.post("/api/v1/decisions", body)  # the lean decision path
        first_took = time.monotonic() - began
        began = time.monotonic()
        others = [seller_a.get("/api/v1/flags") for _ in range(5)]  # DRF's throttle
        others_took = time.monotonic() - began
    assert first.status_code == 200, first.content
    assert all(r.status_code == 200 for r in others)
    assert first_took < 1.0, first_took  # the configured 0.2 s (plus the request), not 2 s
    assert others_took < 0.5, others_took  # the breaker keeps later requests off the dead Redis
    assert "rate limiter unavailable (TimeoutError)" in caplog.text
    assert metrics.value("riskhub_ratelimit_fail_open_total") - before == 6


def test_the_fail_open_counter_is_served_at_metrics(client):
    metrics.incr("riskhub_ratelimit_fail_open_total", 0)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "riskhub_ratelimit_fail_open_total " in response.content.decode()


def test_the_redis_timeout_comes_from_the_environment():
    """REDIS_TIMEOUT_MS sets both timeouts of the cache's Redis client (read in a fresh process)."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "o = s.CACHES['default']['OPTIONS']; print(o['socket_connect_timeout'], o['socket_timeout'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskhub.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_TIMEOUT_MS": "120",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.12", "0.12"]
