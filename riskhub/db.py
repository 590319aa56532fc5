"""Retrying a unit of work that PostgreSQL aborted to resolve contention.

A deadlock (40P01) or a serialization failure (40001) rolls the whole transaction back and
leaves nothing behind, so running the same unit again is safe. Only the outermost caller can
retry (inside an enclosing atomic block the transaction is already lost), which is why this
lives at the view / transaction layer and not in the services.
"""

import logging
import random
import time

from django.db import OperationalError, connection

from riskhub.errors import ApplicationError

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


class TemporarilyUnavailable(ApplicationError):
    status = 503
    code = "temporarily_unavailable"

    def __init__(self, message="The database is briefly unavailable; retry the request.", **kwargs):
        super().__init__(message, headers={"Retry-After": "1"}, **kwargs)


def sqlstate(exc):
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def contention_retried(work, *, attempts=ATTEMPTS):
    """`work()`, run again after a deadlock or serialization failure (with a short jittered pause).

    Still failing after `attempts`, or any other OperationalError (a lost connection): raises
    TemporarilyUnavailable (503, retryable) instead of letting a 500 escape.
    """
    if connection.in_atomic_block:
        return work()  # the enclosing transaction is lost on failure; its owner decides
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            state = sqlstate(exc)
            if state in RETRYABLE_SQLSTATES and attempt < attempts:
                logger.info("transaction aborted (%s); retrying, attempt %d", state, attempt + 1)
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                continue
            logger.warning("database unavailable for a request (%s)", state or exc.__class__.__name__)
            raise TemporarilyUnavailable() from None
    raise AssertionError("unreachable")
