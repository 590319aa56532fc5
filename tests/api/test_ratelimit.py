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
from riskhub.ratelimit import RateLimited, hit
from tests import stack

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_buckets():
    from django.core.cache import cache

    cache.clear()
    ratelimit._breaker.update(until=0.0, logged=0.0)
    yield
    ratelimit._breaker.update(until=0.0, logged=0.0)


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
