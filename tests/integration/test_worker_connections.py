"""The Celery worker keeps its database connection from task to task, as a web process does from
request to request (riskhub.celery; settings.CELERY_DB_REUSE_MAX): Celery's Django fixup would
otherwise close it before and after every task, and a one-buyer score task then paid a new
PostgreSQL session each time. A connection an error left unusable is still replaced."""

import pytest
from django.db import connection

from blacklist.services.flags import flag_submit
from identity.models import Buyer
from tests.conftest import ids, make_persona, real_stack
from tests.stack import wait_for

pytestmark = [pytest.mark.integration, real_stack]


def _other_sessions():
    """Backends on the test database other than this process's own: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _flag_and_wait_scored(seller, n):
    flag, _ = flag_submit(
        seller=seller, identifiers=ids(email=f"reuse-{n}@example.com"), reason="refund_abuse", order_ref=f"R-{n}"
    )
    buyer = flag.identifiers.get().buyer_id
    wait_for(lambda: not Buyer.objects.filter(pk=buyer, needs_score_since__isnull=False).exists(), message="the score")


def test_score_tasks_run_on_one_database_session(celery_worker, live_reasons):
    seller = make_persona("Reuse shop").seller
    _flag_and_wait_scored(seller, 0)
    first = _other_sessions()
    assert first, "the worker closed its connection after the task"
    for n in range(1, 8):
        _flag_and_wait_scored(seller, n)
    assert _other_sessions() == first  # the same backend served every task


def test_a_connection_the_database_ended_is_replaced_before_the_next_task(celery_worker, live_reasons):
    seller = make_persona("Reconnect shop").seller
    _flag_and_wait_scored(seller, 100)
    ended = _other_sessions()
    assert ended
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [sorted(ended)])
    # The next task's first statement fails on the dead connection; the task retries (RETRY_TRANSIENT)
    # and close_old_connections replaces the connection: the flag is scored all the same.
    _flag_and_wait_scored(seller, 101)
    _flag_and_wait_scored(seller, 102)
    assert _other_sessions().isdisjoint(ended)
