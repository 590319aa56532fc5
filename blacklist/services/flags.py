"""Writing flags: submit and retract."""

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from blacklist.lifecycle import audit_record, flag_transition
from blacklist.models import ActorType, Flag, FlagIdentifier, FlagStatus
from identity.identifiers import redact
from identity.marks import buyers_mark, graph_lock_shared
from identity.services import identifiers_resolve
from riskhub.errors import NotFound


def buyer_key(identifiers):
    """One key for the set of digests a flag names: "the same buyer" for idempotency."""
    return hashlib.sha256("\n".join(sorted({i.digest for i in identifiers})).encode()).hexdigest()


def flag_submit(*, seller, identifiers, reason, order_ref, occurred_at=None, note=""):
    """Record a flag (`reason` is a reason code); idempotent on seller + identifiers + reason + order_ref.

    1. Return the existing flag if this seller already filed it (created=False).
    2. Find or create the identifiers (a new one is a buyer of its own).
    3. Insert the flag with the identifiers it names, audit it, and mark their buyers as needing
       a relink and a score — all in one transaction, so a committed flag always carries its
       own "rescore me" mark. The flag links nothing by itself: its identifiers join other
       sellers' evidence only once the relink finds the link corroborated (identity.graph).
    Returns (flag, created).
    """
    lookup = {"seller": seller, "buyer_key": buyer_key(identifiers), "reason_id": reason, "order_ref": order_ref}
    with transaction.atomic():
        graph_lock_shared()  # before any buyer id is read: see identity.marks
        existing = Flag.objects.filter(**lookup).first()
        if existing:
            return existing, False
        rows = identifiers_resolve(identifiers=identifiers)
        try:
            with transaction.atomic():
                flag = Flag.objects.create(**lookup, occurred_at=occurred_at or timezone.now(), note=redact(note))
        except IntegrityError:
            # A concurrent identical submission won the race: answer with its flag.
            return Flag.objects.get(**lookup), False
        FlagIdentifier.objects.bulk_create(FlagIdentifier(flag=flag, identifier=row) for row in rows.values())
        audit_record(
            flag_id=flag.pk,
            action="created",
            actor_type=ActorType.SELLER,
            actor_id=seller.pk,
            to_status=FlagStatus.ACTIVE,
        )
        buyers_mark(buyer_ids=[row.buyer_id for row in rows.values()])
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
