"""Reads for decisions and policies. The decision path never aggregates flags."""

import functools
import json
import uuid

from django.db import DEFAULT_DB_ALIAS

from blacklist.models import COUNTING_STATUSES
from riskhub.db import fetchall
from riskhub.routers import lagging_alias, lagging_fetchall
from riskhub.rows import aware
from scoring import policy
from scoring.models import BuyerScore, SellerPolicy
from scoring.rules import rules_cached
from scoring.services import breakdown_from_json


def policy_of(*, seller):
    """The seller's policy as plain data (defaults when it never set one)."""
    row = SellerPolicy.objects.filter(seller=seller).first()
    return _policy(row.review_at, row.no_ship_at, row.own_flags_block, row.reason_overrides) if row else policy.Policy()


def _policy(review_at, no_ship_at, own_flags_block, overrides):
    if isinstance(overrides, str):  # SQLite hands JSON back as text
        overrides = json.loads(overrides)
    return policy.Policy(
        review_at=review_at, no_ship_at=no_ship_at, own_flags_block=own_flags_block, reason_overrides=overrides or {}
    )


class OwnFlag:
    """One of the asking seller's own counting flags, as the decision shows it."""

    __slots__ = ("pk", "reason_id", "order_ref", "status", "created_at")

    def __init__(self, pk, reason_id, order_ref, status, created_at):
        self.pk, self.reason_id, self.order_ref, self.status, self.created_at = (
            pk,
            reason_id,
            order_ref,
            status,
            created_at,
        )


class ScoreRow:
    """A buyer's precomputed score as the decision reads it."""

    __slots__ = ("buyer_id", "score", "reporting_sellers", "reasons", "computed_at", "lapsed")

    def __init__(self, buyer_id, score, reporting_sellers, reasons, computed_at, lapsed=0):
        self.buyer_id, self.score, self.reporting_sellers, self.lapsed = buyer_id, score, reporting_sellers, lapsed
        self.reasons = json.loads(reasons) if isinstance(reasons, str) else reasons
        self.computed_at = computed_at


def decision_for(*, seller, identifiers, order=None):
    """The decision for `seller` about the order whose buyer these identifiers describe.

    1. Find the buyers (components) the digests belong to; none → nothing known.
    2. Read their precomputed score rows, the seller's own counting flags naming any identifier
       of theirs, and the seller's policy — one statement (`_decision_rows`).
    3. One buyer: its breakdown as stored. Several (the asker named identifiers no corroborated
       link joins): their breakdowns combined, one voice per seller and reason across them
       (policy.reasons_merge). This answer only: asking links nothing.
    4. Apply the seller's policy (scoring.policy.decide).
    Returns (Decision, own flags, the newest score row or None).
    """
    order = order or {}
    scores, own_flags, seller_policy = _decision_rows(seller=seller, digests=[i.digest for i in identifiers])
    reasons = policy.reasons_merge(breakdown_from_json(row.reasons) for row in scores)
    decision = policy.decide(
        reasons=reasons,
        rules=rules_cached(),
        policy=seller_policy,
        own_reasons={f.reason_id for f in own_flags},
        payment_method=order.get("payment_method"),
        lapsed=sum(row.lapsed for row in scores),
    )
    newest = max(scores, key=lambda row: row.computed_at, default=None)
    return decision, own_flags, newest


# Runs on every decision request, so it is written out as one statement: one round trip instead
# of three, and no ORM compilation per request (docs/benchmarks.md). Each result row is tagged:
#   'p' — the seller's policy (always exactly one row; NULLs when the seller never set one)
#   's' — one asked buyer's score row
#   'f' — one of the seller's own counting flags naming an identifier of an asked buyer
# With a read replica (riskhub.routers), the 's' rows come from the replica and the rest from the
# primary: _OWN_SQL and _SCORES_SQL are the two halves of _DECISION_SQL.
_ASKED = """
WITH asked AS (
    SELECT DISTINCT buyer_id FROM identity_identifier WHERE digest IN ({digests})
)"""
_NAMED = """,
named AS MATERIALIZED (  -- the flags naming any identifier of those buyers: a handful, found by index
    SELECT DISTINCT fi.flag_id
      FROM asked
      JOIN identity_identifier i ON i.buyer_id = asked.buyer_id
      JOIN blacklist_flagidentifier fi ON fi.identifier_id = i.id
)
"""
_POLICY_ROW = """
SELECT 'p' AS tag, p.review_at AS n1, p.no_ship_at AS n2, CAST(p.own_flags_block AS INTEGER) AS n3, NULL AS n4,
       p.reason_overrides AS data, NULL AS flag_id, NULL AS reason_id, NULL AS order_ref, NULL AS status,
       NULL AS moment
  FROM (SELECT 1 AS one) AS always
  LEFT JOIN scoring_sellerpolicy p ON p.seller_id = %s
"""
_SCORE_ROWS = """
SELECT 's' AS tag, s.buyer_id AS n1, s.score AS n2, s.reporting_sellers AS n3, s.lapsed AS n4, s.reasons AS data,
       NULL AS flag_id, NULL AS reason_id, NULL AS order_ref, NULL AS status, s.computed_at AS moment
  FROM asked JOIN scoring_buyerscore s ON s.buyer_id = asked.buyer_id
"""
_OWN_FLAG_ROWS = """
SELECT 'f', NULL, NULL, NULL, NULL, NULL, CAST(f.id AS TEXT), f.reason_id, f.order_ref, f.status, f.created_at
  FROM named JOIN blacklist_flag f ON f.id = named.flag_id
 WHERE f.seller_id = %s AND f.status IN ({counting})
"""
# Parameters: digests, seller (policy), seller (own flags), counting statuses.
_DECISION_SQL = _ASKED + _NAMED + _POLICY_ROW + "UNION ALL" + _SCORE_ROWS + "UNION ALL" + _OWN_FLAG_ROWS
# Parameters: the same as _DECISION_SQL.
_OWN_SQL = _ASKED + _NAMED + _POLICY_ROW + "UNION ALL" + _OWN_FLAG_ROWS
# Parameters: digests.
_SCORES_SQL = _ASKED + "\n" + _SCORE_ROWS
_COUNTING = [str(s) for s in COUNTING_STATUSES]


@functools.cache
def _statements(digests):
    """(_DECISION_SQL, _OWN_SQL, _SCORES_SQL) for this many digests, formatted once."""
    marks = {"digests": ", ".join(["%s"] * digests), "counting": ", ".join(["%s"] * len(_COUNTING))}
    return tuple(sql.format(**marks) for sql in (_DECISION_SQL, _OWN_SQL, _SCORES_SQL))


def _decision_rows(*, seller, digests):
    """(score rows, own flags newest first, policy) for these digests, in one statement (two with
    a replica)."""
    if not digests:
        return [], [], policy_of(seller=seller)
    decision_sql, own_sql, scores_sql = _statements(len(digests))
    params = [*digests, seller.pk, seller.pk, *_COUNTING]
    scores_db = lagging_alias(BuyerScore)
    if scores_db == DEFAULT_DB_ALIAS:
        found = fetchall(decision_sql, params)
    else:
        # A replica is set: the scores may lag, the seller's own flags and policy may not (a
        # seller must see its own flag as soon as its request returned): those stay on the primary.
        found = fetchall(own_sql, params)
        found += lagging_fetchall(scores_db, scores_sql, digests)
    scores, own, seller_policy = [], [], policy.Policy()
    for tag, n1, n2, n3, n4, data, flag_id, reason_id, order_ref, status, moment in found:
        if tag == "p" and n1 is not None:
            seller_policy = _policy(n1, n2, bool(n3), data)
        elif tag == "s":
            scores.append(ScoreRow(n1, n2, n3, data, aware(moment), lapsed=n4))
        elif tag == "f":
            own.append(OwnFlag(uuid.UUID(str(flag_id)), reason_id, order_ref, status, aware(moment)))
    own.sort(key=lambda f: f.created_at, reverse=True)
    return scores, own, seller_policy
