"""Recomputing seller trust from track records (scoring.trust), and rescoring what it moves."""

import logging

from django.db.models import Count, Q
from django.utils import timezone

from blacklist.models import FlagStatus, Seller
from scoring.services.aging import score_rescore
from scoring.trust import TrackRecord, seller_trust

logger = logging.getLogger(__name__)

# Below this change a seller's buyers are not worth rescoring now; the aging job catches up.
RESCORE_THRESHOLD = 0.01


def seller_trust_recompute(*, seller_ids=None, now=None):
    """Recompute trust for some or all sellers; rescore buyers of sellers whose trust moved.

    1. One aggregate query: flags per seller by status.
    2. seller_trust() on each track record; save trust and its explanation.
    3. Buyers flagged by sellers whose trust moved by ≥ RESCORE_THRESHOLD are rescored.
    Returns the number of sellers whose trust changed.
    """
    now = now or timezone.now()
    sellers = Seller.objects.all()
    if seller_ids is not None:
        sellers = sellers.filter(pk__in=list(seller_ids))
    sellers = sellers.annotate(
        n_flags=Count("flags"),
        n_retracted=Count("flags", filter=Q(flags__status=FlagStatus.RETRACTED)),
        n_overturned=Count("flags", filter=Q(flags__status=FlagStatus.OVERTURNED)),
        n_upheld=Count("flags", filter=Q(flags__status=FlagStatus.UPHELD)),
    )
    moved, changed = [], []
    for seller in sellers.iterator(chunk_size=2000):
        record = TrackRecord(
            age_days=(now - seller.created_at).total_seconds() / 86400,
            flags=seller.n_flags,
            retracted=seller.n_retracted,
            overturned=seller.n_overturned,
            upheld=seller.n_upheld,
        )
        trust, details = seller_trust(record)
        if abs(trust - seller.trust) >= RESCORE_THRESHOLD:
            moved.append(seller.pk)
        seller.trust, seller.trust_details, seller.trust_computed_at = trust, details, now
        changed.append(seller)
    Seller.objects.bulk_update(changed, ["trust", "trust_details", "trust_computed_at"], batch_size=1000)
    if moved:
        logger.info("trust moved for %d sellers; rescoring their buyers", len(moved))
        score_rescore(seller_ids=moved)
    return len(moved)
