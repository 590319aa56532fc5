"""Fixtures for the due-process tests."""

import pytest
from django.core.cache import cache

from riskhub.celery import app
from tests import stack


@pytest.fixture(autouse=True)
def _appeal_limits_clean(settings):
    """Rate-limit buckets refill over an hour: start every test with empty appeal buckets."""
    if stack.REAL_STACK:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match="*rl:appeal:*", count=1000):
            client.delete(key)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _codes_mailed_in_process():
    """The code mail is a Celery task (off the request). These tests read it from Django's test
    outbox, so the task runs in this process — Celery's eager mode, as under `make run`; the
    worker's path is covered end to end in tests/integration/test_e2e_appeals.py."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
