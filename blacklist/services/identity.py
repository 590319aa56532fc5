"""Linking identifiers to buyers, and merging buyers found to be one."""

from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from blacklist.models import Buyer, BuyerIdentifier, BuyerMerge, Flag
from riskhub import rows


def buyers_by_digest_sql(digests):
    """SQL (and params) selecting the distinct ids of the buyers these digests belong to.

    Embedded by the decision read (scoring.selectors) to answer in one round trip; buyer_find is
    the same question through the ORM, off the hot path.
    """
    return _buyers_by_digest_sql(connection.vendor, len(digests)), list(digests)


@cache
def _buyers_by_digest_sql(vendor, count):
    """The SQL text for `count` digests (built once per count: it runs on every decision)."""
    qn = connection.ops.quote_name
    table, buyer, digest = (
        qn(BuyerIdentifier._meta.db_table),
        qn(BuyerIdentifier._meta.get_field("buyer").column),
        qn(BuyerIdentifier._meta.get_field("digest").column),
    )
    return f"SELECT DISTINCT {buyer} AS buyer_id FROM {table} WHERE {digest} IN ({rows.placeholders(range(count))})"  # noqa: S608


def buyer_find(*, identifiers):
    """The ids of the buyers any of `identifiers` belongs to, ascending (no writes)."""
    digests = [i.digest for i in identifiers]
    return sorted(set(BuyerIdentifier.objects.filter(digest__in=digests).values_list("buyer_id", flat=True)))


def buyer_resolve(*, identifiers):
    """Find or create the buyer these identifiers describe, linking them all to it.

    1. Look the digests up; none known → a new buyer; several buyers → merge them.
    2. Link the unknown digests to the buyer.
    Two requests racing on the same new identifier collide on the unique digest; the loser's
    savepoint rolls back and it retries, now finding the winner's buyer.
    Must run inside a transaction.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _resolve_once(identifiers)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _resolve_once(identifiers):
    known = dict(
        BuyerIdentifier.objects.filter(digest__in=[i.digest for i in identifiers]).values_list("digest", "buyer_id")
    )
    buyer_ids = sorted(set(known.values()))
    if not buyer_ids:
        buyer = Buyer.objects.create()
    elif len(buyer_ids) == 1:
        buyer = Buyer(pk=buyer_ids[0])
    else:
        buyer = buyer_merge(buyer_ids=buyer_ids)
    new = [BuyerIdentifier(digest=i.digest, kind=i.kind, buyer=buyer) for i in identifiers if i.digest not in known]
    if new:
        BuyerIdentifier.objects.bulk_create(new)
    return buyer


def buyer_merge(*, buyer_ids):
    """Fold several buyers into the oldest one; returns the survivor.

    Identifiers and flags move to the survivor. A flag that would duplicate one the survivor
    already has (same seller, reason and order) stays behind: it says nothing new, and one
    seller counts once anyway. Each fold is recorded in BuyerMerge.
    """
    # Lock in id order so two merges of overlapping sets cannot deadlock.
    buyers = list(Buyer.objects.select_for_update().filter(pk__in=buyer_ids).order_by("pk"))
    survivor, losers = buyers[0], buyers[1:]
    now = timezone.now()
    for loser in losers:
        identifiers_moved = BuyerIdentifier.objects.filter(buyer=loser).update(buyer=survivor)
        duplicate = Flag.objects.filter(
            buyer=survivor, seller=OuterRef("seller"), reason=OuterRef("reason"), order_ref=OuterRef("order_ref")
        )
        flags_moved = Flag.objects.filter(buyer=loser).exclude(Exists(duplicate)).update(buyer=survivor)
        Buyer.objects.filter(pk=loser.pk).update(merged_into=survivor, needs_score_since=None)
        BuyerMerge.objects.create(
            merged_buyer_id=loser.pk, into=survivor, identifiers_moved=identifiers_moved, flags_moved=flags_moved
        )
    from scoring.models import BuyerScore

    BuyerScore.objects.filter(buyer__in=losers).delete()
    Buyer.objects.filter(pk=survivor.pk).update(needs_score_since=now)
    return survivor
