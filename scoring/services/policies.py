"""Seller decision policies."""

from scoring import policy
from scoring.models import SellerPolicy


def policy_update(*, seller, review_at, no_ship_at, own_flags_block, reason_overrides=None):
    """Replace the seller's decision policy; returns it as plain data."""
    row, _ = SellerPolicy.objects.update_or_create(
        seller=seller,
        defaults={
            "review_at": review_at,
            "no_ship_at": no_ship_at,
            "own_flags_block": own_flags_block,
            "reason_overrides": dict(reason_overrides or {}),
        },
    )
    return policy.Policy(
        review_at=row.review_at,
        no_ship_at=row.no_ship_at,
        own_flags_block=row.own_flags_block,
        reason_overrides=dict(row.reason_overrides),
    )
