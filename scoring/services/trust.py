"""Recomputing seller trust from track records (scoring.trust), and rescoring what it moves."""

import logging

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from blacklist.models import ActorType, AuditEvent, Seller
from blacklist.selectors import severed_link_flags
from scoring.services.aging import score_rescore
from scoring.trust import TrackRecord, seller_trust

logger = logging.getLogger(__name__)

# Below this change a seller's buyers are not worth rescoring now; the aging job catches up.
RESCORE_THRESHOLD = 0.01


def seller_trust_recompute(*, seller_ids=None, now=None):
    """Recompute trust for some or all sellers; rescore buyers of sellers whose trust moved.

    1. Track records from the audit trail (it outlives the retention purge of flag rows), plus
       each seller's flags asserting links that admins severed.
    2. seller_trust() on each track record; save trust and its explanation.
    3. Buyers flagged by sellers whose trust moved by ≥ RESCORE_THRESHOLD are rescored.
    Returns the number of sellers whose trust changed.
    """
    now = now or timezone.now()
    sellers = Seller.objects.all()
    if seller_ids is not None:
        sellers = sellers.filter(pk__in=list(seller_ids))
    records = _track_records(seller_ids)
    severed = severed_link_flags()
    moved, changed = [], []
    for seller in sellers.iterator(chunk_size=2000):
        counts = records.get(str(seller.pk), {})
        record = TrackRecord(
            age_days=(now - seller.created_at).total_seconds() / 86400,
            flags=counts.get("created", 0),
            retracted=counts.get("retract", 0),
            overturned=counts.get("overturn", 0),
            upheld=counts.get("uphold", 0),
            severed=severed.get(seller.pk, 0),
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


def _track_records(seller_ids=None):
    """{seller id (str): {"created": n, "retract": n, "overturn": n, "uphold": n}} from audit events.

    A flag's creator is the actor of its "created" event; its fate is the later events on the
    same flag id. Flag rows may be purged by retention; the audit trail is kept.
    """
    created = AuditEvent.objects.filter(action="created", actor_type=ActorType.SELLER)
    if seller_ids is not None:
        created = created.filter(actor_id__in=[str(pk) for pk in seller_ids])
    records = {}
    for row in created.values("actor_id").annotate(n=Count("id")).order_by():
        records.setdefault(row["actor_id"], {})["created"] = row["n"]
    creator = created.filter(flag_id=OuterRef("flag_id")).values("actor_id")[:1]
    fates = (
        AuditEvent.objects.filter(action__in=["retract", "overturn", "uphold"])
        .annotate(creator=Subquery(creator))
        .filter(creator__isnull=False)
        .values("creator", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in fates:
        records.setdefault(row["creator"], {})[row["action"]] = row["n"]
    return records
