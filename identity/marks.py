"""The "needs score" mark, the graph lock, and waking the scorer.

Whoever changes the evidence about a buyer (a flag submitted, retracted, disputed, expired; a
link severed) marks the buyers it touches in the same transaction. The mark is the guarantee:
the scorer (scoring.tasks) relinks and rescores marked buyers and clears the mark only if it is
unchanged; a sweep picks up marks whose task was lost. The wake-up sent on commit is only there
to make that happen at once.

The graph lock orders evidence changes against the relink (blacklist.services.links): writers
hold it shared, so they never block each other; the relink holds it exclusively for the few
statements that move identifiers between buyers. A writer takes it as late as it can — just
before it reads which buyers its identifiers belong to (`identifiers_mark`), after its rows are
written and checked — so it always reads buyer ids that no relink is about to change, a relink
always sees every committed change, and a relink waits for a writer's commit only, never for its
whole transaction: a 500-flag batch held the lock for ~0.15 s from its first statement, and a
relink queued behind it stalled every writer behind itself (docs/benchmarks.md).
"""

import logging

from django.db import connection, transaction
from django.utils import timezone

from riskhub.celery import app
from riskhub.rows import any_of

logger = logging.getLogger(__name__)

# The scorer's task, by name: identity sits below scoring and must not import it.
SCORE_TASK = "scoring.tasks.score_buyers"
TASK_CHUNK = 500
GRAPH_LOCK_KEY = 0x5249534B  # "RISK": one application-wide advisory lock id


def graph_lock_shared():
    """Hold the graph lock shared until the transaction ends (writers of evidence)."""
    _graph_lock("pg_advisory_xact_lock_shared")


def graph_lock_exclusive():
    """Hold the graph lock exclusively until the transaction ends (the relink)."""
    _graph_lock("pg_advisory_xact_lock")


def _graph_lock(function, before=""):
    """Take the graph lock with `function`, after the statements `before` in the same round trip
    (statements without parameters go out as one simple query, which psycopg never prepares)."""
    # SQLite (make run) serialises every write transaction anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"{before}SELECT {function}({GRAPH_LOCK_KEY:d})")


def identifiers_mark(*, identifier_ids):
    """Mark the buyers these identifiers (ids) belong to now, under the graph lock (shared), in the
    caller's transaction; wake the scorer on commit.

    1. Check the transaction's deferred constraints now (the foreign keys of the rows the caller
       wrote), so the commit that follows under the lock is short.
    2. Take the graph lock shared: no relink moves these identifiers until this transaction ends.
    3. Mark their buyers, read under the lock (one statement, `_buyers_mark`).
    """
    # Steps 1 and 2 in one round trip. SET CONSTRAINTS ALL DEFERRED puts the constraints back as
    # the schema declares them: every deferrable constraint here is one of Django's foreign keys,
    # DEFERRABLE INITIALLY DEFERRED.
    _graph_lock("pg_advisory_xact_lock_shared", before="SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED; ")
    ids = list(identifier_ids)
    if ids:
        condition, params = any_of("id", ids, "bigint")
        _buyers_mark(f"SELECT buyer_id FROM identity_identifier WHERE {condition}", params)  # noqa: S608


def buyers_mark(*, buyer_ids):
    """Mark buyers as needing a score — in the caller's transaction — and wake the scorer on commit.

    Rows are locked in id order, so two writers marking overlapping sets cannot deadlock. A fresh
    timestamp on every mark makes the scorer's compare-and-clear fail if evidence changes while a
    recompute is running. The buyers of one call are one wake-up (a batch's is a bulk one, which
    riskhub.queues keeps off the queue that scores single flags).
    """
    ids = sorted(set(buyer_ids))
    if ids:
        condition, params = any_of("id", ids, "bigint")  # one statement text whatever the count
        _buyers_mark(f"SELECT id FROM identity_buyer WHERE {condition}", params)  # noqa: S608


def _buyers_mark(owners, params):
    """Mark the buyers whose ids the query `owners` (SQL, `params`) selects, and wake them on commit.

    One statement, written out: the ORM's two (lock, then update) cost more to compile than to run.
    On PostgreSQL every buyer is one probe of the primary key, whatever the statistics say: each
    set of ids goes through `ARRAY(…)`, whose size the planner cannot see. As `id IN (…)`, a
    1,300-buyer chunk of an import was planned as two hash joins reading the whole buyer table
    (240,000 rows: 61 ms, against 8 ms as probes; docs/benchmarks.md), and the cost grew with the
    table until it was large enough for the planner to change its mind.
    """
    if connection.vendor == "postgresql":
        locked = f"SELECT id FROM identity_buyer WHERE id = ANY(ARRAY({owners})) ORDER BY id FOR UPDATE"  # noqa: S608
        where = f"id = ANY(ARRAY({locked}))"
    else:  # SQLite (make run) locks the whole database for a write
        where = f"id IN ({owners})"
    sql = f"UPDATE identity_buyer SET needs_score_since = %s WHERE {where} RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now()), *params])
        marked = [pk for (pk,) in cursor.fetchall()]
    score_wakeup(buyer_ids=marked)


def score_wakeup(*, buyer_ids):
    """Enqueue scoring of these buyers once the current transaction commits."""
    ids = list(buyer_ids)
    if not ids:
        return
    transaction.on_commit(lambda: score_enqueue(buyer_ids=ids), robust=True)


def score_enqueue(*, buyer_ids, chunk=TASK_CHUNK):
    task = app.tasks[SCORE_TASK]
    for part in score_task_parts(list(buyer_ids), chunk):
        try:
            # Named by its size in the message's headers and the workers' logs: Celery's default,
            # a repr of the ids, cost more than sending the message (docs/benchmarks.md).
            task.apply_async((part,), argsrepr=f"[{len(part)} buyers]")
        except Exception:  # broker down: the marks stay, the sweep recovers them
            logger.warning("could not enqueue scoring of %d buyers; the sweep will recover them", len(part))


def score_task_parts(ids, chunk=TASK_CHUNK):
    """The buyers of one wake-up as task arguments: at most `chunk` each, of even size, so that a
    wake-up's remainder never becomes a task small enough to pass for a single flag's
    (riskhub.queues routes score tasks by their size)."""
    count = -(-len(ids) // chunk)  # ceil: as few parts as `chunk` allows
    size, larger = divmod(len(ids), count) if ids else (0, 0)
    bounds = [n * size + min(n, larger) for n in range(count + 1)]  # the first `larger` get one more
    return [ids[bounds[n] : bounds[n + 1]] for n in range(count)]
