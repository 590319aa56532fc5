"""Reads for decisions and policies. The decision path never aggregates flags."""

from django.db import connection

from blacklist.models import COUNTING_STATUSES, Flag
from blacklist.services.identity import buyers_by_digest_sql
from riskhub import rows
from scoring import policy
from scoring.models import BuyerScore, SellerPolicy
from scoring.rules import rules_cached
from scoring.services import breakdown_from_json


def policy_of(*, seller):
    """The seller's policy as plain data (defaults when it never set one)."""
    try:
        row = seller.policy
    except SellerPolicy.DoesNotExist:
        return policy.Policy()
    return policy.Policy(
        review_at=row.review_at,
        no_ship_at=row.no_ship_at,
        own_flags_block=row.own_flags_block,
        reason_overrides=dict(row.reason_overrides or {}),
    )


def decision_for(*, seller, identifiers, order=None):
    """The decision for `seller` about the buyer these identifiers describe.

    1. Find the buyer(s) by digest; none → nothing known.
    2. Read the precomputed score row (several buyers: the riskiest one).
    3. Read the asking seller's own counting flags on them.
    4. Apply the seller's policy (scoring.policy.decide).
    Returns (Decision, own flags, score row or None).
    """
    order = order or {}
    buyer_ids, scores = _buyers_and_scores(digests=[i.digest for i in identifiers])
    score_row, own_flags = None, []
    if buyer_ids:
        score_row = max(scores, key=lambda r: (r.score, r.reporting_sellers), default=None)
        own_flags = _own_flags(seller=seller, buyer_ids=buyer_ids)
    rules = rules_cached()
    decision = policy.decide(
        reasons=breakdown_from_json(score_row.reasons if score_row else {}),
        rules=rules,
        policy=policy_of(seller=seller),
        own_reasons={f.reason_id for f in own_flags},
        payment_method=order.get("payment_method"),
    )
    return decision, own_flags, score_row


# Steps 1–3 run on every decision request, so they are written out as SQL: the ORM spent more
# time compiling these three small queries than everything else in a decision (riskhub.rows).


def _buyers_and_scores(*, digests):
    """The ids of the buyers these digests name, and the score rows of those that have one."""
    if not digests:
        return [], []
    buyers_sql, params = buyers_by_digest_sql(digests)
    qn = connection.ops.quote_name
    sql = (
        f"WITH buyers AS ({buyers_sql}) "  # noqa: S608 - names from model metadata, values bound
        f"SELECT buyers.buyer_id, {rows.select_list(BuyerScore, 's')} FROM buyers "
        f"LEFT JOIN {qn(BuyerScore._meta.db_table)} s ON s.{qn(BuyerScore._meta.pk.column)} = buyers.buyer_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    pk_index = 1 + BuyerScore._meta.concrete_fields.index(BuyerScore._meta.pk)
    buyer_ids = sorted(row[0] for row in found)
    scores = [rows.instance(BuyerScore, row[1:]) for row in found if row[pk_index] is not None]
    return buyer_ids, scores


def _own_flags(*, seller, buyer_ids):
    """The seller's own counting flags on these buyers, newest first."""
    qn = connection.ops.quote_name
    column = {f.name: qn(f.column) for f in Flag._meta.concrete_fields}
    statuses = [str(s) for s in COUNTING_STATUSES]
    sql = (
        f"SELECT {rows.select_list(Flag, 'f')} FROM {qn(Flag._meta.db_table)} f "  # noqa: S608 - names, not values
        f"WHERE f.{column['seller']} = %s AND f.{column['buyer']} IN ({rows.placeholders(buyer_ids)}) "
        f"AND f.{column['status']} IN ({rows.placeholders(statuses)}) "
        f"ORDER BY f.{column['created_at']} DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [seller.pk, *buyer_ids, *statuses])
        return [rows.instance(Flag, row) for row in cursor.fetchall()]
