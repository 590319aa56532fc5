"""Time: flags expire past their reason's maximum age, and scores are rebuilt as flags fade.

Both jobs are set-based and chunked, so memory stays bounded however many flags there are.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from blacklist.lifecycle import flags_mark_buyers
from blacklist.models import COUNTING_STATUSES, ActorType, AuditEvent, Flag, FlagIdentifier, FlagStatus, Reason
from identity.marks import score_enqueue
from identity.models import Buyer, Identifier
from scoring.services.scores import CHUNK, score_recompute

logger = logging.getLogger(__name__)

EXPIRABLE = (FlagStatus.ACTIVE, FlagStatus.UPHELD)  # disputed flags wait for their review


def flags_expire(*, now=None, chunk=5000):
    """Expire every active or upheld flag older than its reason's max_age_days; returns how many.

    Per chunk, in one transaction: flip the statuses, write one audit event per flag
    (actor: system), and mark the buyers for rescoring.
    """
    now = now or timezone.now()
    expired = 0
    for reason in Reason.objects.all():
        cutoff = now - timedelta(days=reason.max_age_days)
        stale = Flag.objects.filter(reason=reason, status__in=EXPIRABLE, occurred_at__lt=cutoff)
        while True:
            with transaction.atomic():
                rows = list(stale.select_for_update(skip_locked=True).values_list("pk", "status")[:chunk])
                if not rows:
                    break
                Flag.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                    status=FlagStatus.EXPIRED, status_changed_at=now
                )
                AuditEvent.objects.bulk_create(
                    AuditEvent(
                        flag_id=pk,
                        action="expire",
                        actor_type=ActorType.SYSTEM,
                        from_status=status,
                        to_status=FlagStatus.EXPIRED,
                        note=f"older than {reason.max_age_days} days",
                    )
                    for pk, status in rows
                )
                flags_mark_buyers(flag_ids=[pk for pk, _ in rows])
            expired += len(rows)
    if expired:
        logger.info("expired %d flags", expired)
    return expired


def _buyer_id_chunks(rows, column, chunk):
    """The distinct `column` values (buyer ids) of `rows`, ascending, `chunk` at a time: keyset
    pagination, so memory is bounded and each page starts where the last one ended, in the index
    on `column`. (A page of buyers filtered by a correlated EXISTS over their identifiers
    re-read the identifiers from the first buyer on every page: quadratic in the table size.)"""
    last = 0
    while True:
        page = rows.filter(**{f"{column}__gt": last}).order_by(column).values_list(column, flat=True)
        ids = list(page.distinct()[:chunk])
        if not ids:
            return
        yield ids
        last = ids[-1]


def score_rescore(*, buyer_ids=None, seller_ids=None, inline=False, chunk=CHUNK, progress=None):
    """Rebuild the scores of some buyers (all scored ones by default) as their flags age.

    1. Pick the buyers: the given ids, those holding an identifier the given sellers flagged, or
       every buyer holding an identifier named by a counting flag.
    2. Per chunk: mark them as needing a score (so a lost task is swept up later), then
       recompute in this process (`inline`) or enqueue one task per chunk for the workers.
    Returns how many buyers were requested.
    """
    flags = None
    if seller_ids is not None:
        flags = FlagIdentifier.objects.filter(flag__seller_id__in=list(seller_ids))
    elif buyer_ids is None:
        flags = FlagIdentifier.objects.filter(flag__status__in=COUNTING_STATUSES)
    if flags is not None:  # the buyers holding an identifier those flags name
        rows, column = Identifier.objects.filter(pk__in=flags.values("identifier_id")), "buyer_id"
        if buyer_ids is not None:
            rows = rows.filter(buyer_id__in=list(buyer_ids))
    else:
        rows, column = Buyer.objects.filter(pk__in=list(buyer_ids)), "pk"
    total = 0
    for ids in _buyer_id_chunks(rows, column, chunk):
        if inline:
            score_recompute(buyer_ids=ids)
        else:
            Buyer.objects.filter(pk__in=ids).update(needs_score_since=timezone.now())
            score_enqueue(buyer_ids=ids, chunk=chunk)
        total += len(ids)
        if progress:
            progress(len(ids))
    return total
