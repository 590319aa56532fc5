"""Reads for decisions and policies. The decision path never aggregates flags."""

from blacklist.models import COUNTING_STATUSES, Flag
from blacklist.services.identity import buyer_find
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
    buyer_ids = buyer_find(identifiers=identifiers)
    score_row, own_flags = None, []
    if buyer_ids:
        rows = list(BuyerScore.objects.filter(buyer_id__in=buyer_ids))
        score_row = max(rows, key=lambda r: (r.score, r.reporting_sellers), default=None)
        own_flags = list(
            Flag.objects.filter(seller=seller, buyer_id__in=buyer_ids, status__in=COUNTING_STATUSES).order_by(
                "-created_at"
            )
        )
    rules = rules_cached()
    decision = policy.decide(
        reasons=breakdown_from_json(score_row.reasons if score_row else {}),
        rules=rules,
        policy=policy_of(seller=seller),
        own_reasons={f.reason_id for f in own_flags},
        payment_method=order.get("payment_method"),
    )
    return decision, own_flags, score_row
