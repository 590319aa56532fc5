"""Fixtures for the due-process tests."""

import pytest
from django.core.cache import cache

from tests import stack


@pytest.fixture(autouse=True)
def _appeal_limits_clean(settings):
    """Rate-limit windows are an hour long: start every test with empty appeal counters."""
    if stack.REAL_STACK:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match="*rl:appeal:*", count=1000):
            client.delete(key)
    else:
        cache.clear()
    settings.APPEAL_START_MIN_SECONDS = 0  # the timing floor has its own test
    yield
