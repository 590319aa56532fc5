import importlib
from dataclasses import dataclass

import pytest
from django.apps import apps
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from blacklist import keycache
from blacklist.models import Seller
from blacklist.services.keys import api_key_create
from identity.identifiers import identifiers_from
from riskhub import ratelimit
from scoring.rules import rules_forget
from scoring.services import score_recompute
from tests import stack
from tests.factories import SellerFactory

_seed = importlib.import_module("blacklist.migrations.0002_seed_reasons")

# Property tests check invariants, not speed: no per-example deadline, so a loaded CI machine
# cannot turn a slow example into a failure (performance lives in `make bench`).
hypothesis_settings.register_profile("riskhub", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("riskhub")


def seed_reasons():
    """Reasons come from a data migration; transactional tests flush them, so re-seed."""
    _seed.seed(apps, None)
    rules_forget()


@pytest.fixture(autouse=True)
def _fresh_rules():
    """Per-process state starts clean: reason rules, API keys, rate-limit leases and breaker."""
    rules_forget()
    keycache.forget()
    ratelimit.forget()
    yield
    rules_forget()


@pytest.fixture
def reasons(db):
    seed_reasons()


@dataclass
class Persona:
    seller: Seller
    key: str
    client: APIClient

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, data, format="json", **kwargs)

    def get(self, path, data=None, **kwargs):
        return self.client.get(path, data, **kwargs)

    def put(self, path, data=None, **kwargs):
        return self.client.put(path, data, format="json", **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete(path, **kwargs)


def make_persona(name, **seller_fields):
    seller = SellerFactory(name=name, **seller_fields)
    _, raw = api_key_create(seller=seller, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Persona(seller=seller, key=raw, client=client)


@pytest.fixture
def seller_a(reasons):
    return make_persona("Seller A")


@pytest.fixture
def seller_b(reasons):
    return make_persona("Seller B")


@pytest.fixture
def outsider(reasons):
    """A seller who must never see seller_a's or seller_b's data."""
    return make_persona("Outsider")


@pytest.fixture
def admin_key(reasons):
    _, raw = api_key_create(is_admin=True, name="test admin")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Persona(seller=None, key=raw, client=client)


@pytest.fixture
def anon():
    return APIClient()


def ids(**buyer):
    """Identifiers (digests) for a buyer dict, as the API would compute them."""
    country = buyer.pop("country", None)
    return identifiers_from(buyer, country=country)


def buyer_id_of(flag):
    """The buyer (component) holding the first identifier a flag names."""
    return flag.identifiers.order_by("pk").values_list("buyer_id", flat=True).first()


def rescore(*buyer_ids):
    """Compute scores synchronously (unit and API tests; integration tests use the worker)."""
    from identity.models import Buyer

    score_recompute(buyer_ids=buyer_ids or list(Buyer.objects.values_list("pk", flat=True)))


# --- the real stack ---------------------------------------------------------------------------

real_stack = pytest.mark.skipif(
    not stack.REAL_STACK, reason="needs PostgreSQL + Redis (run `make test` with the services up)"
)


@pytest.fixture(scope="session")
def _redis_clean():
    if stack.REAL_STACK:
        import redis
        from django.conf import settings

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, _redis_clean):
    """One real `celery worker` process for the session, on the test database."""
    if not stack.REAL_STACK:
        pytest.skip("needs PostgreSQL + Redis for a real Celery worker")
    worker = stack.WorkerHandle("session")
    yield worker
    worker.stop()


@pytest.fixture
def live_reasons(transactional_db):
    seed_reasons()


# --- due process: appeal limits and the code mail ------------------------------------------------


@pytest.fixture
def appeal_limits_clean(settings):
    """Rate-limit buckets refill over an hour: start with empty appeal buckets."""
    if stack.REAL_STACK:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match="*rl:appeal:*", count=1000):
            client.delete(key)
    else:
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def codes_mailed_in_process(appeal_limits_clean):
    """The code mail is a Celery task (off the request). Tests that read it from Django's test
    outbox run the task in this process — Celery's eager mode, as under `make run`; the worker's
    path is covered end to end in tests/integration/test_e2e_appeals.py."""
    from riskhub.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
