"""Writing flags: submit and retract."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from blacklist.lifecycle import audit_record, flag_transition
from blacklist.models import ActorType, Flag, FlagStatus
from blacklist.services.identity import buyer_resolve
from identity.identifiers import redact
from riskhub.errors import NotFound


def flag_submit(*, seller, identifiers, reason, order_ref, occurred_at=None, note=""):
    """Record a flag (`reason` is a reason code); idempotent on seller + buyer + reason + order_ref.

    1. Resolve (and link) the buyer from the identifiers.
    2. Return the existing flag if this seller already filed it (created=False).
    3. Otherwise insert it, audit it, and mark the buyer as needing a score — all in one
       transaction, so a committed flag always carries its own "rescore me" mark.
    Returns (flag, created).
    """
    from scoring.services import score_request

    with transaction.atomic():
        buyer = buyer_resolve(identifiers=identifiers)
        lookup = {"seller": seller, "buyer": buyer, "reason_id": reason, "order_ref": order_ref}
        existing = Flag.objects.filter(**lookup).first()
        if existing:
            return existing, False
        now = timezone.now()
        try:
            with transaction.atomic():
                flag = Flag.objects.create(**lookup, occurred_at=occurred_at or now, note=redact(note))
        except IntegrityError:
            # A concurrent identical submission won the race: answer with its flag.
            return Flag.objects.get(**lookup), False
        audit_record(
            flag_id=flag.pk,
            action="created",
            actor_type=ActorType.SELLER,
            actor_id=seller.pk,
            to_status=FlagStatus.ACTIVE,
        )
        score_request(buyer_ids=[buyer.pk])
    return flag, True


def flag_retract(*, seller, flag_id):
    """Retract one of `seller`'s own flags. Unknown or someone else's → 404.

    Retracting an already retracted flag is a no-op (DELETE is idempotent).
    """
    with transaction.atomic():
        flag = Flag.objects.select_for_update().filter(pk=flag_id, seller=seller).first()
        if flag is None:
            raise NotFound("No such flag.")
        if flag.status == FlagStatus.RETRACTED:
            return flag
        return flag_transition(flag=flag, action="retract", actor_type=ActorType.SELLER, actor_id=seller.pk)
