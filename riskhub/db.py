"""Retrying a unit of work that PostgreSQL aborted to resolve contention, or that met a dead connection.

A deadlock (40P01) or a serialization failure (40001) rolls the whole transaction back and
leaves nothing behind, so running the same unit again is safe. So does a connection that died
under the work (PostgreSQL restarted, a proxy dropped it): connections are reused without a
`SELECT 1` before each request (DB_CONN_HEALTH_CHECKS=false, a round trip saved on every
decision), so the first query on a dead one fails; the connection is closed and the unit runs
once more on a new one. Only the outermost caller can retry (inside an enclosing atomic block
the transaction is already lost), which is why this lives at the view / transaction layer and
not in the services.
"""

import logging
import random
import time

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections

from riskhub.errors import TemporarilyUnavailable
from riskhub.libpq import Runner

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def sqlstate(exc):
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def retried(work, *, attempts=ATTEMPTS):
    """`work()`, run again after a deadlock or serialization failure (with a short jittered pause),
    or at once on a new connection after the first one was found dead.

    Still failing after `attempts`, or any other OperationalError: raises TemporarilyUnavailable
    (503, retryable) instead of letting a 500 escape.
    """
    if connection.in_atomic_block:
        return work()  # the enclosing transaction is lost on failure; its owner decides
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            state = sqlstate(exc)
            if state in RETRYABLE_SQLSTATES and attempt < attempts:
                logger.info("transaction aborted (%s); retrying, attempt %d", state, attempt + 1)
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                continue
            if attempt == 1 and connection_lost():
                logger.info("database connection lost (%s); retrying on a new one", exc.__class__.__name__)
                continue
            logger.warning("database unavailable for a request (%s)", state or exc.__class__.__name__)
            raise TemporarilyUnavailable() from None
    raise AssertionError("unreachable")


def connection_lost():
    """After a failed query: True if the connection is dead (it is closed, and the next query opens
    a new one), False if it still answers and the error was the query's own."""
    connection.close_if_unusable_or_obsolete()
    return connection.connection is None


def fetchall(sql, params, *, using=DEFAULT_DB_ALIAS):
    """The rows of one read statement on `using`, for the request hot paths (the decision read).

    On PostgreSQL the statement runs on libpq directly (riskhub.libpq: prepared once per
    connection, rows sent in binary), inside Django's error translation, so `retried` sees a dead
    connection as usual: Django's cursor wrapper and a psycopg cursor cost ~30 µs of CPU per
    statement each and the rows' text parsing ~9 µs (docs/benchmarks.md). While Django records or
    wraps queries (DEBUG, the test suite's query counters, connection.execute_wrapper) it uses
    Django's cursor, so nothing is hidden from them. The rows are Django's cursor's, except that
    a JSON value comes back decoded, not as its text (callers take both). `sql` takes `%s`
    placeholders only.
    """
    db = connections[using]
    if db.vendor != "postgresql" or db.queries_logged or db.execute_wrappers:
        return _cursor_fetchall(db, sql, params)
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        db.ensure_connection()
        runner = getattr(db, "riskhub_runner", None)
        if runner is None or runner.conn is not db.connection:
            runner = db.riskhub_runner = Runner(db.connection)
        if runner.usable():
            return runner.fetchall(sql, params)
        with db.connection.cursor() as cursor:  # psycopg opens the transaction first
            cursor.execute(sql, params, binary=True)
            return cursor.fetchall()


def _cursor_fetchall(db, sql, params):
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
