"""Computing scores: request, recompute, sweep, full rescore."""

import contextvars
import logging
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from blacklist.models import COUNTING_STATUSES, Buyer, Flag, FlagStatus
from scoring import policy
from scoring.models import BuyerScore
from scoring.rules import rules_load

logger = logging.getLogger(__name__)

CHUNK = 2000
TASK_CHUNK = 500
_collector = contextvars.ContextVar("score_collector", default=None)


def score_request(*, buyer_ids):
    """Mark buyers as needing a score — in the caller's transaction — and enqueue on commit.

    The mark is what guarantees the score: if the task is lost (worker killed, Redis emptied),
    the sweep finds the mark and recomputes. A fresh timestamp on every request makes the
    scorer's compare-and-clear fail if a flag lands while a recompute is running.
    """
    ids = sorted(set(buyer_ids))
    Buyer.objects.filter(pk__in=ids).update(needs_score_since=timezone.now())
    collector = _collector.get()
    if collector is not None:
        transaction.on_commit(lambda: collector.update(ids))
    else:
        transaction.on_commit(lambda: score_enqueue(buyer_ids=ids), robust=True)


@contextmanager
def score_requests_collected():
    """Collect the score requests committed inside the block; enqueue them together at its end."""
    collected = set()
    token = _collector.set(collected)
    try:
        yield collected
    finally:
        _collector.reset(token)
        if collected:
            score_enqueue(buyer_ids=sorted(collected))


def score_enqueue(*, buyer_ids, chunk=TASK_CHUNK):
    from scoring.tasks import score_buyers

    ids = list(buyer_ids)
    size = chunk
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            score_buyers.delay(chunk)
        except Exception:  # broker down: the marks stay, the sweep recovers them
            logger.warning("could not enqueue scoring of %d buyers; the sweep will recover them", len(chunk))


def _voices_by_buyer(buyer_ids):
    """{buyer id: [Voice]}: one SQL aggregate, one row per buyer, reason and seller."""
    rows = (
        Flag.objects.filter(buyer_id__in=buyer_ids, status__in=COUNTING_STATUSES)
        .values_list("buyer_id", "reason_id", "seller_id", "seller__trust")
        .annotate(last_at=Max("occurred_at"), disputed=Count("id", filter=Q(status=FlagStatus.DISPUTED)))
        .order_by()
    )
    voices = {}
    for buyer_id, reason, seller_id, trust, last_at, disputed in rows.iterator(chunk_size=5000):
        voices.setdefault(buyer_id, []).append(
            policy.Voice(seller_id=seller_id, reason=reason, last_at=last_at, trust=trust, disputed=disputed)
        )
    return voices


def breakdown_to_json(breakdown):
    return {
        code: {
            "sellers": r.sellers,
            "seller_ids": sorted(r.seller_ids),
            "last_flagged_at": r.last_flagged_at.isoformat(),
            "risk": round(r.risk, 6),
            "disputed": r.disputed,
            "stale": r.stale,
        }
        for code, r in breakdown.reasons.items()
    }


def breakdown_from_json(data):
    return {
        code: policy.ReasonSummary(
            code=code,
            sellers=r["sellers"],
            seller_ids=frozenset(r["seller_ids"]),
            last_flagged_at=datetime.fromisoformat(r["last_flagged_at"]),
            risk=r["risk"],
            disputed=r.get("disputed", 0),
            stale=r.get("stale", 0),
        )
        for code, r in (data or {}).items()
    }


def score_recompute(*, buyer_ids, now=None, rules=None):
    """Rebuild the scores of these buyers from their flags (idempotent); returns how many.

    1. Note each buyer's "needs score" mark as it is now.
    2. Aggregate the counting flags in SQL to one voice per buyer, reason and seller.
    3. Score in Python (scoring.policy) and upsert the score rows.
    4. Clear each mark only if it is unchanged — a flag that arrived meanwhile keeps it set.
    """
    now = now or timezone.now()
    rules = rules or rules_load()
    done = 0
    ids = list(buyer_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        marks = dict(
            Buyer.objects.filter(pk__in=chunk, merged_into__isnull=True).values_list("pk", "needs_score_since")
        )
        voices = _voices_by_buyer(list(marks))
        rows = []
        for buyer_id in marks:
            breakdown = policy.score_voices(voices.get(buyer_id, ()), rules, now)
            rows.append(
                BuyerScore(
                    buyer_id=buyer_id,
                    score=breakdown.score,
                    reporting_sellers=breakdown.reporting_sellers,
                    reasons=breakdown_to_json(breakdown),
                    computed_at=now,
                )
            )
        _upsert_scores(rows)
        _clear_marks({pk: mark for pk, mark in marks.items() if mark is not None})
        done += len(rows)
    return done


_SCORE_FIELDS = ("buyer", "score", "reporting_sellers", "reasons", "computed_at")


def _upsert_scores(rows):
    """INSERT … ON CONFLICT DO UPDATE through executemany (PostgreSQL and SQLite alike).

    Half the cost of bulk_create(update_conflicts=True) here: bulk_create sends the JSON
    breakdowns inside one text array, which must be escaped character by character.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    fields = [BuyerScore._meta.get_field(name) for name in _SCORE_FIELDS]
    columns = [qn(f.column) for f in fields]
    sql = (
        f"INSERT INTO {qn(BuyerScore._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names, not values
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({columns[0]}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    )
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] for row in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _clear_marks(marks):
    """Compare-and-clear: clear each buyer's mark only if it still holds the value read before.

    The rows are locked (in id order) and compared in Python, then cleared by primary key, so
    the database never has to match (id, mark) pairs — a rescore marks whole chunks with one
    timestamp, which makes an index on the mark useless for that match.
    """
    if not marks:
        return
    with transaction.atomic():
        current = dict(
            Buyer.objects.select_for_update()
            .filter(pk__in=list(marks))
            .order_by("pk")
            .values_list("pk", "needs_score_since")
        )
        unchanged = [pk for pk, mark in marks.items() if current.get(pk) == mark]
        Buyer.objects.filter(pk__in=unchanged).update(needs_score_since=None)


def score_sweep(*, older_than=None, limit=50_000):
    """Recompute buyers whose "needs score" mark is older than SCORE_SWEEP_AFTER.

    This is what makes a lost task harmless: the mark was written with the flag.
    """
    cutoff = timezone.now() - (settings.SCORE_SWEEP_AFTER if older_than is None else older_than)
    ids = list(
        Buyer.objects.filter(needs_score_since__lte=cutoff)
        .order_by("needs_score_since")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        logger.info("sweep: recomputing %d buyers left unscored", len(ids))
        score_recompute(buyer_ids=ids)
    return len(ids)
