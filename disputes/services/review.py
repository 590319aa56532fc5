"""An admin's path: claim a dispute, uphold or overturn it.

A claim keeps two admins off the same dispute. It lapses after DISPUTE_CLAIM_TTL without
activity by its holder; looking at the dispute or acting on it renews it. Locks are always
taken flag first, then dispute — the same order as an appeal takes them.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, Flag
from disputes.models import Dispute, DisputeStatus
from disputes.services.notices import dispute_notify_buyer
from identity.identifiers import redact
from riskhub.errors import ApplicationError, Conflict, NotFound

OUTCOME_ACTIONS = {DisputeStatus.UPHELD: "uphold", DisputeStatus.OVERTURNED: "overturn"}


def _claim_holder_id(dispute, now):
    if dispute.claimed_by_id and dispute.claimed_at and now - dispute.claimed_at < settings.DISPUTE_CLAIM_TTL:
        return dispute.claimed_by_id
    return None


def _locked(dispute_id):
    """Lock the dispute's flag, then the dispute; 404 when there is no such dispute."""
    flag_id = Dispute.objects.filter(pk=dispute_id).values_list("flag_id", flat=True).first()
    if flag_id is None:
        raise NotFound("No such dispute.")
    flag = Flag.objects.select_for_update().get(pk=flag_id)
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=dispute_id)
    return flag, dispute


def _refuse_if_claimed_by_other(dispute, user, now):
    holder = _claim_holder_id(dispute, now)
    if holder is not None and (user is None or holder != user.pk):
        raise Conflict(
            f"Claimed by {dispute.claimed_by} since {dispute.claimed_at:%Y-%m-%d %H:%M} UTC.",
            code="dispute_claimed",
            details={"claimed_at": dispute.claimed_at.isoformat()},
        )


def _refuse_if_closed(dispute):
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict(f"This dispute is already {dispute.status}.", code="dispute_closed")


def dispute_claim(*, dispute_id, user):
    """Take (or renew) the claim on an open dispute; 409 if another admin holds a live claim."""
    now = timezone.now()
    with transaction.atomic():
        _, dispute = _locked(dispute_id)
        _refuse_if_closed(dispute)
        _refuse_if_claimed_by_other(dispute, user, now)
        dispute.claimed_by, dispute.claimed_at = user, now
        dispute.save(update_fields=["claimed_by", "claimed_at"])
    return dispute


def dispute_claim_touch(*, dispute_id, user):
    """Renew the claim if `user` holds it (activity on the dispute); returns whether it did."""
    now = timezone.now()
    return bool(
        Dispute.objects.filter(
            pk=dispute_id,
            status=DisputeStatus.OPEN,
            claimed_by=user,
            claimed_at__gt=now - settings.DISPUTE_CLAIM_TTL,
        ).update(claimed_at=now)
    )


def dispute_release(*, dispute_id, user):
    """Give up one's own claim; releasing another admin's live claim is refused."""
    now = timezone.now()
    with transaction.atomic():
        _, dispute = _locked(dispute_id)
        _refuse_if_claimed_by_other(dispute, user, now)
        dispute.claimed_by, dispute.claimed_at = None, None
        dispute.save(update_fields=["claimed_by", "claimed_at"])
    return dispute


def dispute_resolve(*, dispute_id, outcome, note="", actor_id, user=None):
    """Uphold or overturn an open dispute; returns it.

    1. Lock flag and dispute; refuse a closed dispute, or one another admin has claimed (409).
    2. Move the flag (disputed → upheld / overturned): audited, and the buyer's score is
       recomputed, so an overturned flag stops counting as soon as the worker has run.
    3. Close the dispute with the note; once committed, mail the buyer the outcome.
    `user` is the Django admin user acting (None for an admin API key).
    """
    if outcome not in OUTCOME_ACTIONS:
        raise ApplicationError("Outcome must be upheld or overturned.", code="invalid_outcome")
    now = timezone.now()
    with transaction.atomic():
        flag, dispute = _locked(dispute_id)
        _refuse_if_closed(dispute)
        _refuse_if_claimed_by_other(dispute, user, now)
        flag_transition(
            flag=flag,
            action=OUTCOME_ACTIONS[outcome],
            actor_type=ActorType.ADMIN,
            actor_id=actor_id,
            note=f"dispute {dispute.pk}",
        )
        dispute.status = outcome
        dispute.resolved_at = now
        dispute.resolved_by = str(actor_id)[:64]
        dispute.resolution_note = redact(note or "")[:2000]
        dispute.claimed_by, dispute.claimed_at = None, None
        dispute.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "claimed_by", "claimed_at"]
        )
        dispute.flag = flag
        transaction.on_commit(lambda: dispute_notify_buyer(dispute_id=dispute.pk))
    return dispute
