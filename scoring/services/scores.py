"""Computing scores: recompute (relink first), sweep.

Marks and wake-ups live in identity.marks; this module consumes them.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from blacklist.models import COUNTING_STATUSES, FlagStatus
from blacklist.services.links import buyers_relink
from identity.models import Buyer
from riskhub.rows import any_of, aware, insert_many
from scoring import policy
from scoring.models import BuyerScore
from scoring.rules import rules_load

logger = logging.getLogger(__name__)

CHUNK = 2000


def _voices_by_buyer(buyer_ids):
    """({buyer id: [Voice]}, {buyer id: expired flags}): one SQL aggregate, one row per buyer,
    reason and seller, over the counting and the expired flags naming the buyer's identifiers.

    A flag counts for every buyer holding an identifier it names; naming two identifiers of one
    buyer still makes it one voice (grouped by seller), and one flag (distinct counts). A row with
    only expired flags is no voice: it only tells the explanation that the buyer was flagged once.
    """
    buyers, params = any_of("i.buyer_id", buyer_ids, "bigint")
    counting = ", ".join(["%s"] * len(_COUNTING))
    source = _VOICES_ROWS if connection.vendor == "postgresql" else _VOICES_ROWS_SQLITE
    sql = _VOICES_SQL.format(counting=counting, rows=source.format(counting=counting, buyers=buyers))
    dispute, expiry = FlagStatus.DISPUTED.value, FlagStatus.EXPIRED.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_COUNTING, dispute, expiry, *_COUNTING, expiry, *params])
        rows = cursor.fetchall()
    voices, expired = {}, {}
    for buyer_id, reason, seller_id, trust, last_at, disputed, gone in rows:
        expired[buyer_id] = expired.get(buyer_id, 0) + gone
        if last_at is not None:
            voices.setdefault(buyer_id, []).append(
                policy.Voice(seller_id=seller_id, reason=reason, last_at=aware(last_at), trust=trust, disputed=disputed)
            )
    return voices, expired


# One row per buyer, reason and seller. Written out like the relink's reads (blacklist.services.links):
# every score task runs it, and building it through the ORM (a join path, three filtered
# aggregates) cost a tenth of the task's CPU. Parameters: the counting statuses, "disputed",
# "expired", the counting statuses and "expired" again, the buyers.
#
# On PostgreSQL it walks from the buyers outwards, each step one probe of an index (LATERAL
# subqueries that cannot be flattened, OFFSET 0, as in identity.services._identifiers_found):
# as plain joins, the plan depended on the statistics and on when it was made. For 500 buyers
# among 190,000 flag identifiers, a plan made for the values read the whole table (16.5 ms,
# against 5 ms as probes); and a generic plan a worker's connection made early in a load (7,000
# flag identifiers) was hash joins over every counting flag, kept while the connection lived
# (docs/benchmarks.md). As probes, a plan scans a table instead only while it is a page or two.
_VOICES_SQL = """
SELECT i.buyer_id, f.reason_id, f.seller_id, s.trust,
       MAX(f.occurred_at) FILTER (WHERE f.status IN ({counting})),
       COUNT(DISTINCT f.id) FILTER (WHERE f.status = %s),
       COUNT(DISTINCT f.id) FILTER (WHERE f.status = %s)
{rows}
 GROUP BY i.buyer_id, f.reason_id, f.seller_id, s.trust
"""
# The rows it reads ({rows}). SQLite (make run) has no LATERAL: there _VOICES_ROWS_SQLITE, the
# same rows as joins, the parameters in the same order.
_VOICES_ROWS = """  FROM identity_identifier i
 CROSS JOIN LATERAL (
       SELECT fi.flag_id FROM blacklist_flagidentifier fi WHERE fi.identifier_id = i.id OFFSET 0) AS fi
 CROSS JOIN LATERAL (
       SELECT f.id, f.reason_id, f.seller_id, f.status, f.occurred_at FROM blacklist_flag f
        WHERE f.id = fi.flag_id AND f.status IN ({counting}, %s) OFFSET 0) AS f
  JOIN blacklist_seller s ON s.id = f.seller_id
 WHERE {buyers}"""
_VOICES_ROWS_SQLITE = """  FROM blacklist_flag f
  JOIN blacklist_flagidentifier fi ON fi.flag_id = f.id
  JOIN identity_identifier i ON i.id = fi.identifier_id
  JOIN blacklist_seller s ON s.id = f.seller_id
 WHERE f.status IN ({counting}, %s) AND {buyers}"""
_COUNTING = [status.value for status in COUNTING_STATUSES]


def breakdown_to_json(breakdown):
    """The stored form of a breakdown. `voices` ({seller id: [strength, disputed, stale]}) is
    what lets a decision combine several buyers without reading their flags (policy.reasons_merge)."""
    return {
        code: {
            "sellers": r.sellers,
            "last_flagged_at": r.last_flagged_at.isoformat(),
            "risk": round(r.risk, 6),
            "disputed": r.disputed,
            "stale": r.stale,
            "voices": {str(s): [round(v.strength, 6), v.disputed, int(v.stale)] for s, v in r.voices.items()},
        }
        for code, r in breakdown.reasons.items()
    }


def breakdown_from_json(data):
    return {code: _reason_from_json(code, r) for code, r in (data or {}).items()}


def _reason_from_json(code, r):
    voices = {
        int(s): policy.SellerVoice(strength=v[0], disputed=v[1], stale=bool(v[2])) for s, v in r["voices"].items()
    }
    return policy.ReasonSummary(
        code=code,
        sellers=r["sellers"],
        seller_ids=frozenset(voices),
        last_flagged_at=datetime.fromisoformat(r["last_flagged_at"]),
        risk=r["risk"],
        disputed=r.get("disputed", 0),
        stale=r.get("stale", 0),
        voices=voices,
    )


def score_recompute(*, buyer_ids, now=None, rules=None, marked_only=False):
    """Relink, then rebuild the scores of these buyers from their flags (idempotent); returns how many.

    Per chunk:
    1. Note each buyer's "needs score" mark as it is now. With `marked_only` (the score task),
       leave out the buyers without one: every change of evidence marks its buyers before it
       sends their task, so an unmarked buyer was rescored after its last change by an earlier
       task. Under ingestion a buyer named in many batches has several tasks queued, and only
       the first of them has anything to do.
    2. Relink the region around the buyers (blacklist.services.links): links may have been
       corroborated or weakened since; this yields the buyers whose score can have moved (the
       marks of those it changed are the ones it wrote). A buyer the relink creates starts with
       its predecessor's score (`_carry_scores`), so a decision never finds a flagged identifier
       without a score while the new one is computed.
    3. Aggregate the counting flags in SQL to one voice per buyer, reason and seller; score in
       Python (scoring.policy).
    4. Under the buyers' row locks, write the score and clear the mark of each buyer whose mark
       is unchanged. A buyer whose evidence changed meanwhile keeps both its old score and its
       new mark: the recompute that change asked for writes the newer score, never this one.
    """
    now = now or timezone.now()
    rules = rules or rules_load()
    done = 0
    ids = list(buyer_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        # The marks are read before the relink: a writer committing after this read leaves a newer
        # mark, which the compare-and-clear below keeps, so its change is relinked next round.
        before = _marks_of(chunk)
        if marked_only:
            chunk = [pk for pk in chunk if before.get(pk) is not None]
            if not chunk:
                continue
        affected, relinked = buyers_relink(buyer_ids=chunk, carry=_carry_scores)
        marks = {pk: relinked[pk] if pk in relinked else before.get(pk) for pk in affected}
        voices, expired = _voices_by_buyer(list(marks))
        rows = []
        for buyer_id in marks:
            breakdown = policy.score_voices(voices.get(buyer_id, ()), rules, now)
            lapsed = expired.get(buyer_id, 0) + breakdown.aged_out
            rows.append(
                (buyer_id, breakdown.score, breakdown.reporting_sellers, breakdown_to_json(breakdown), lapsed, now)
            )
        done += _write_if_unchanged(rows, marks)
    return done


# A score row's values, in this order: plain tuples, as insert_many takes them (a model instance
# per buyer, only to read its attributes back, was ≈ 4 % of a score task's CPU).
_SCORE_FIELDS = ("buyer", "score", "reporting_sellers", "reasons", "lapsed", "computed_at")


def _marks_of(buyer_ids, lock=False):
    """{buyer id: its "needs score" mark (None: unmarked)} for those of these buyers that exist;
    `lock`: row-locked, in id order (so two lockers of overlapping sets cannot deadlock). Written
    out, like the relink's reads (blacklist.services.links): every score task runs it twice."""
    condition, params = any_of("id", buyer_ids, "bigint")
    lock = " ORDER BY id FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, needs_score_since FROM identity_buyer WHERE {condition}{lock}", params)  # noqa: S608
        return {pk: aware(mark) for pk, mark in cursor.fetchall()}


# A new buyer's provisional score: its predecessor's row, copied in the relink's transaction.
_CARRY_SQL = """
INSERT INTO scoring_buyerscore (buyer_id, score, reporting_sellers, reasons, lapsed, computed_at)
SELECT %s, score, reporting_sellers, reasons, lapsed, computed_at FROM scoring_buyerscore WHERE buyer_id = %s
ON CONFLICT (buyer_id) DO NOTHING
"""


def _carry_scores(successors):
    with connection.cursor() as cursor:
        cursor.executemany(_CARRY_SQL, list(successors.items()))


def _write_if_unchanged(rows, marks):
    """Compare-and-write: lock the buyers (in id order), then upsert the scores and clear the
    marks of those whose mark still holds the value read before. Returns how many were written.

    The comparison is made in Python and the clear done by primary key, so the database never has
    to match (id, mark) pairs — a rescore marks whole chunks with one timestamp.
    """
    if not rows:
        return 0
    with transaction.atomic():
        current = _marks_of(list(marks), lock=True)
        fresh = [row for row in rows if row[0] in current and current[row[0]] == marks[row[0]]]
        insert_many(BuyerScore, _SCORE_FIELDS, fresh, update_conflicts=True)
        # By primary key alone: with `needs_score_since IS NOT NULL` in the WHERE, PostgreSQL can
        # pick the partial index of marked buyers and scan all of them for every chunk — during a
        # large import, every buyer not yet scored (docs/benchmarks.md).
        cleared = [row[0] for row in fresh if marks[row[0]] is not None]
        if cleared:
            condition, params = any_of("id", cleared, "bigint")
            with connection.cursor() as cursor:  # written out, like the region's reads (links.py)
                cursor.execute(f"UPDATE identity_buyer SET needs_score_since = NULL WHERE {condition}", params)  # noqa: S608
    return len(fresh)


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
