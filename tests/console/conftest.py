"""Personas for the console tests: a signed-in console user per seller persona."""

import pytest
from django.core.cache import cache
from django.test import Client

from console.models import Role
from console.services import member_create
from tests import stack

PASSWORD = "correct horse battery staple"


def console_client(seller, email, role=Role.OWNER):
    """A Django test client signed in as a new user of `seller`."""
    membership, _ = member_create(seller=seller, email=email, role=role, password=PASSWORD)
    client = Client()
    client.force_login(membership.user)
    client.membership = membership
    return client


@pytest.fixture
def user_a(seller_a):
    return console_client(seller_a.seller, "owner@seller-a.test")


@pytest.fixture
def user_b(seller_b):
    return console_client(seller_b.seller, "owner@seller-b.test")


@pytest.fixture(autouse=True)
def _limits_clean(settings):
    """Appeal rate-limit windows last an hour: every test starts with empty counters."""
    if stack.REAL_STACK:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match="*rl:appeal:*", count=1000):
            client.delete(key)
    else:
        cache.clear()
    settings.APPEAL_START_MIN_SECONDS = 0
