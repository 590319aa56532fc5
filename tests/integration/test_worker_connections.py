"""The Celery worker keeps its database connection from task to task, as a web process does from
request to request (riskhub.celery; settings.CELERY_DB_REUSE_MAX): Celery's Django fixup would
otherwise close it before and after every task, and a one-buyer score task then paid a new
PostgreSQL session each time. A connection an error left unusable is still replaced.

The tests run a worker of their own, its sessions named by libpq's PGAPPNAME, so they see (and
end) that worker's sessions only, never a web process's the session's other tests use."""

import uuid

import pytest
from django.db import connection

from blacklist.services.flags import flag_submit
from identity.models import Buyer
from tests import scale_stack
from tests.conftest import ids, make_persona, real_stack
from tests.stack import wait_for

pytestmark = [pytest.mark.integration, real_stack]


@pytest.fixture
def named_worker(celery_worker, live_reasons):
    """(the application name of its sessions) for a worker on every queue, alone: the session's
    worker is stopped meanwhile, so every task runs here."""
    name = f"riskhub-test-worker-{uuid.uuid4().hex[:8]}"
    celery_worker.stop()
    worker = None
    try:
        worker = scale_stack.start_worker("named", PGAPPNAME=name)
        yield name
    finally:
        if worker is not None:
            worker.stop()
        celery_worker.start()


def _sessions(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [name])
        return {pid for (pid,) in cursor.fetchall()}


def _flag_and_wait_scored(seller, n):
    flag, _ = flag_submit(
        seller=seller, identifiers=ids(email=f"reuse-{n}@example.com"), reason="refund_abuse", order_ref=f"R-{n}"
    )
    buyer = flag.identifiers.get().buyer_id
    wait_for(lambda: not Buyer.objects.filter(pk=buyer, needs_score_since__isnull=False).exists(), message="the score")


def test_score_tasks_run_on_one_database_session(named_worker):
    seller = make_persona("Reuse shop").seller
    _flag_and_wait_scored(seller, 0)
    first = _sessions(named_worker)
    assert len(first) == 1, "the worker closed its connection after the task"
    for n in range(1, 8):
        _flag_and_wait_scored(seller, n)
    assert _sessions(named_worker) == first  # the same backend served every task


def test_a_connection_the_database_ended_is_replaced_before_the_next_task(named_worker):
    seller = make_persona("Reconnect shop").seller
    _flag_and_wait_scored(seller, 100)
    ended = _sessions(named_worker)
    assert len(ended) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [next(iter(ended))])
    # The next task's first statement fails on the dead connection; the task retries (RETRY_TRANSIENT)
    # and close_old_connections replaces the connection: the flag is scored all the same.
    _flag_and_wait_scored(seller, 101)
    _flag_and_wait_scored(seller, 102)
    now = _sessions(named_worker)
    assert len(now) == 1 and now.isdisjoint(ended)
