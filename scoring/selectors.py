"""Reads for decisions and policies. The decision path never aggregates flags."""

from functools import cache

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
    Steps 1–3 are one query (`_decision_rows`). Returns (Decision, own flags, score row or None).
    """
    order = order or {}
    scores, own_flags = _decision_rows(seller=seller, digests=[i.digest for i in identifiers])
    score_row = max(scores, key=lambda r: (r.score, r.reporting_sellers), default=None)
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
# time compiling these small queries than everything else in a decision (riskhub.rows), and one
# round trip costs less than three.


def _decision_rows(*, seller, digests):
    """The score rows of the buyers these digests name, and the seller's own counting flags on
    those buyers, newest first — in one statement.

    Each row is one buyer joined to its score row (if any) and to one of the seller's flags on it
    (if any), so a buyer's score repeats on each of its flags.
    """
    if not digests:
        return [], []
    buyers_sql, params = buyers_by_digest_sql(digests)
    with connection.cursor() as cursor:
        cursor.execute(_decision_sql(connection.vendor, buyers_sql), [*params, seller.pk, *_COUNTING])
        found = cursor.fetchall()
    n_score = len(BuyerScore._meta.concrete_fields)
    score_pk, flag_pk = _pk_index(BuyerScore), _pk_index(Flag)
    scores, own_flags = {}, []
    for row in found:
        score, flag = row[1 : 1 + n_score], row[1 + n_score :]
        if score[score_pk] is not None and row[0] not in scores:
            scores[row[0]] = rows.instance(BuyerScore, score)
        if flag[flag_pk] is not None:
            own_flags.append(rows.instance(Flag, flag))
    return list(scores.values()), own_flags


_COUNTING = [str(s) for s in COUNTING_STATUSES]


def _pk_index(model):
    return model._meta.concrete_fields.index(model._meta.pk)


@cache
def _decision_sql(vendor, buyers_sql):
    qn = connection.ops.quote_name
    flag = {f.name: qn(f.column) for f in Flag._meta.concrete_fields}
    return (
        f"WITH buyers AS ({buyers_sql}) "  # noqa: S608 - names from model metadata, values bound
        f"SELECT buyers.buyer_id, {rows.select_list(BuyerScore, 's')}, {rows.select_list(Flag, 'f')} FROM buyers "
        f"LEFT JOIN {qn(BuyerScore._meta.db_table)} s ON s.{qn(BuyerScore._meta.pk.column)} = buyers.buyer_id "
        f"LEFT JOIN {qn(Flag._meta.db_table)} f ON f.{flag['buyer']} = buyers.buyer_id "
        f"AND f.{flag['seller']} = %s AND f.{flag['status']} IN ({rows.placeholders(_COUNTING)}) "
        f"ORDER BY f.{flag['created_at']} DESC"
    )
