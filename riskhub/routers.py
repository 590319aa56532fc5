"""Which database a query runs on: the primary, unless the read says it may lag and a replica is set.

With DATABASE_REPLICA_URL set (settings), the `replica` alias is a PostgreSQL streaming replica.
A replica answers from a consistent but slightly older snapshot of the primary, so only reads that
ask for it with the `lag_ok=True` hint go there: today the score rows of a decision
(scoring.selectors). A score a few hundred milliseconds older is a score the worker could equally
not have written yet. Everything else — writes, migrations, the asking seller's own flags and
policy (it must see its own flag the moment its request returned), the scorer, the admin — stays
on the primary, so nothing that reads its own writes can read from the replica by accident.
"""

import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, router

from riskhub.db import fetchall

logger = logging.getLogger(__name__)

REPLICA = "replica"


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if hints.get("lag_ok") and REPLICA in connections.settings:
            return REPLICA
        return None  # Django's default: the primary

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two ways in

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # a replica gets its schema by replication


def lagging_alias(model):
    """The alias for a read of `model` that may be slightly old: the replica if one is set."""
    return router.db_for_read(model, lag_ok=True)


def lagging_fetchall(alias, sql, params):
    """Rows of a lag-tolerant read on `alias`; from the primary if the replica cannot answer.

    A replica that is down, restarting, or cancels the query (a conflict with recovery) costs the
    decision its replica, not its answer. After a failure, this process's connection leaves the
    replica alone for DATABASE_REPLICA_RETRY_SECONDS, so an unreachable replica costs one
    connect timeout per period, not one per decision.
    """
    if alias == DEFAULT_DB_ALIAS:
        return fetchall(sql, params, using=alias)
    replica = connections[alias]
    if time.monotonic() < getattr(replica, "riskhub_resting_until", 0.0):
        return fetchall(sql, params)
    try:
        return fetchall(sql, params, using=alias)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("replica read failed (%s); reading from the primary", exc.__class__.__name__)
        replica.close_if_unusable_or_obsolete()
        replica.riskhub_resting_until = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
        return fetchall(sql, params)
