"""Reads for due process: a buyer's flags, the dispute queues, the audit trail, track records."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from blacklist.models import AuditEvent, Flag, FlagIdentifier, FlagStatus
from disputes.models import Dispute, DisputeStatus, LinkContest
from identity.models import Identifier


def linked_to(*, email_digest):
    """(the email's Identifier or None, the other identifiers its buyer holds)."""
    own = Identifier.objects.filter(digest=email_digest).first()
    if own is None:
        return None, Identifier.objects.none()
    return own, Identifier.objects.filter(buyer_id=own.buyer_id).exclude(pk=own.pk).order_by("kind", "pk")


def buyer_flags(*, email_digest):
    """The flags held about the buyer behind this email digest, newest first, with appeal state.

    Two kinds, told apart by `named_directly`:
    - flags naming the email itself — shown whole;
    - flags naming another identifier that corroborated links join to it (the email's buyer,
      identity.graph) — `via_kind` says which kind of identifier they named; callers must not
      show their order reference (it belongs to a transaction the buyer may not recognise, and
      links can be wrong: the buyer can contest them).
    A seller that can read mail at an address it linked to someone else's identifier sees nothing
    new through this: a link one seller alone asserts joins nothing.
    """
    own, _ = linked_to(email_digest=email_digest)
    if own is None:
        return Flag.objects.none()
    named = FlagIdentifier.objects.filter(identifier__buyer_id=own.buyer_id)
    open_dispute = Dispute.objects.filter(flag=OuterRef("pk"), status=DisputeStatus.OPEN)
    direct = FlagIdentifier.objects.filter(flag=OuterRef("pk"), identifier_id=own.pk)
    via = named.filter(flag=OuterRef("pk")).order_by("identifier__kind").values("identifier__kind")[:1]
    return (
        Flag.objects.filter(pk__in=named.values("flag_id"))
        .select_related("reason")
        .annotate(
            named_directly=Exists(direct),
            via_kind=Subquery(via),
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
    """The other flags held about the buyers the disputed flag names (any seller), newest first."""
    buyers = Identifier.objects.filter(flags=dispute.flag_id).values("buyer_id")
    named = FlagIdentifier.objects.filter(identifier__buyer_id__in=buyers).values("flag_id")
    return (
        Flag.objects.filter(pk__in=named)
        .exclude(pk=dispute.flag_id)
        .select_related("seller", "reason")
        .order_by("-created_at")
    )


def flags_about(*, digests):
    """The flags held about the buyers these digests belong to (admin search)."""
    buyers = Identifier.objects.filter(digest__in=list(digests)).values("buyer_id")
    return FlagIdentifier.objects.filter(identifier__buyer_id__in=buyers).values("flag_id")


def buyer_links(*, email_digest):
    """The identifiers linked to this email (its buyer's other identifiers), by kind only, with the
    status of the buyer's contest of each, if any: what a buyer may say "this is not mine" about."""
    _, others = linked_to(email_digest=email_digest)
    contests = dict(
        LinkContest.objects.filter(buyer_digest=email_digest)
        .order_by("created_at")
        .values_list("identifier_id", "status")
    )
    return [{"id": i.pk, "kind": i.kind, "contested": contests.get(i.pk)} for i in others]
