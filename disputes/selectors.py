"""Reads for due process: a buyer's flags, the dispute queues, the audit trail, track records."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from blacklist.models import AuditEvent, Buyer, BuyerIdentifier, Flag, FlagStatus
from disputes.models import Dispute, DisputeStatus
from identity.identifiers import IdentifierKind, InvalidIdentifier, identifiers_from


def buyer_ids_for(*, digests):
    """Every buyer id the given identifier digests lead to, with the buyers merged into them.

    A merge moves identifiers to the survivor but may leave duplicate flags on the folded buyer:
    those are still held about the same person, so they are shown (and appealable) too.
    """
    found = set(BuyerIdentifier.objects.filter(digest__in=list(digests)).values_list("buyer_id", flat=True))
    frontier = set(found)
    while frontier:
        frontier = set(Buyer.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return sorted(found)


def buyer_flags(*, email_digest):
    """The flags held about the buyer behind this email digest, newest first, with appeal state."""
    open_dispute = Dispute.objects.filter(flag=OuterRef("pk"), status=DisputeStatus.OPEN)
    return (
        Flag.objects.filter(buyer_id__in=buyer_ids_for(digests=[email_digest]))
        .select_related("reason")
        .annotate(
            has_open_dispute=Exists(open_dispute),
            last_upheld_at=Max("disputes__resolved_at", filter=Q(disputes__status=DisputeStatus.UPHELD)),
        )
        .order_by("-created_at", "-id")
    )


def appeal_blocked_until(*, last_upheld_at, now=None):
    """When an upheld flag may be appealed again (None: it may be now)."""
    if last_upheld_at is None:
        return None
    until = last_upheld_at + timedelta(days=settings.APPEAL_COOLDOWN_DAYS)
    return until if until > (now or timezone.now()) else None


def flag_appealable(flag, *, now=None):
    """Whether a flag annotated by `buyer_flags` can be appealed right now."""
    if flag.has_open_dispute:
        return False
    if flag.status == FlagStatus.ACTIVE:
        return True
    if flag.status == FlagStatus.UPHELD:
        return appeal_blocked_until(last_upheld_at=flag.last_upheld_at, now=now) is None
    return False


def disputes_of(*, seller, status=None):
    """The disputes on this seller's flags, newest first."""
    disputes = Dispute.objects.filter(flag__seller=seller).select_related("flag")
    if status:
        disputes = disputes.filter(status=status)
    return disputes.order_by("-created_at", "-id")


def dispute_queue(*, status=None):
    """All disputes for review, oldest first."""
    disputes = Dispute.objects.select_related("flag", "flag__seller", "claimed_by")
    if status:
        disputes = disputes.filter(status=status)
    return disputes.order_by("created_at", "id")


def audit_of(*, flag_id):
    """Every audit event of one flag, oldest first (survives the flag's purge)."""
    return AuditEvent.objects.filter(flag_id=flag_id).order_by("created_at", "id")


def seller_track_record(*, seller):
    """How this seller's flags fared: totals per status and the share of reviewed disputes overturned."""
    flags = Flag.objects.filter(seller=seller).aggregate(
        total=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in FlagStatus.values},
    )
    reviewed = Dispute.objects.filter(flag__seller=seller).aggregate(
        upheld=Count("id", filter=Q(status=DisputeStatus.UPHELD)),
        overturned=Count("id", filter=Q(status=DisputeStatus.OVERTURNED)),
        open=Count("id", filter=Q(status=DisputeStatus.OPEN)),
    )
    decided = reviewed["upheld"] + reviewed["overturned"]
    return {
        "flags": flags,
        "disputes": reviewed,
        "overturn_rate": (reviewed["overturned"] / decided) if decided else None,
    }


def buyer_other_flags(*, dispute):
    """The other flags held about the disputed flag's buyer (any seller), newest first."""
    buyer_ids = {dispute.flag.buyer_id}
    buyer_ids |= set(Buyer.objects.filter(merged_into=dispute.flag.buyer_id).values_list("pk", flat=True))
    return (
        Flag.objects.filter(buyer_id__in=buyer_ids)
        .exclude(pk=dispute.flag_id)
        .select_related("seller", "reason")
        .order_by("-created_at")
    )


def buyer_ids_for_search(term):
    """Buyer ids whose identifiers match a raw search term, hashed on the fly and never stored.

    The term is tried as each kind of identifier it normalises as; phone numbers need
    international format here (there is no country hint in a search box).
    """
    digests = identifier_digests(term)
    return buyer_ids_for(digests=digests) if digests else []


def identifier_digests(term):
    """The digests of `term` read as each kind of identifier it normalises as."""
    term = (term or "").strip()
    digests = []
    if not term:
        return digests
    for kind in IdentifierKind.values:
        try:
            digests += [i.digest for i in identifiers_from({kind: term})]
        except InvalidIdentifier:
            continue
    return digests
