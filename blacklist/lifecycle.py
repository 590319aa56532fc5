"""The flag lifecycle as an explicit state machine.

    active ──retract──▶ retracted        (by its seller)
    active ──dispute──▶ disputed         (by a buyer's appeal)
    active ──expire───▶ expired          (by age, the system)
    disputed ─uphold──▶ upheld           (by an admin; counts again like active)
    disputed ─overturn▶ overturned       (by an admin; stops counting)
    upheld behaves as active for retract, expire and dispute (disputes.services.appeals refuses a
    new appeal of an upheld flag for APPEAL_COOLDOWN_DAYS).

Every transition goes through `flag_transition`, which refuses illegal ones with 409, writes
an audit event, and marks the buyers the flag names for relinking and rescoring.
"""

from django.utils import timezone

from blacklist.models import ActorType, AuditEvent, FlagIdentifier, FlagStatus
from identity.marks import identifiers_mark
from riskhub.errors import Conflict

S = FlagStatus
TRANSITIONS = {
    "retract": ({S.ACTIVE, S.UPHELD}, S.RETRACTED),
    "dispute": ({S.ACTIVE, S.UPHELD}, S.DISPUTED),
    "expire": ({S.ACTIVE, S.UPHELD}, S.EXPIRED),
    "uphold": ({S.DISPUTED}, S.UPHELD),
    "overturn": ({S.DISPUTED}, S.OVERTURNED),
}


def audit_record(*, flag_id, action, actor_type, actor_id="", from_status="", to_status="", note=""):
    return AuditEvent.objects.create(
        flag_id=flag_id,
        action=action,
        actor_type=actor_type,
        actor_id=str(actor_id),
        from_status=from_status,
        to_status=to_status,
        note=note[:1000],
    )


def flag_transition(*, flag, action, actor_type=ActorType.SYSTEM, actor_id="", note=""):
    """Move a (locked) flag along `action`; raise Conflict when the move is illegal."""
    allowed_from, to_status = TRANSITIONS[action]
    if flag.status not in allowed_from:
        raise Conflict(
            f"A flag in status '{flag.status}' cannot be {to_status}.",
            code="illegal_transition",
            details={"status": flag.status, "action": action},
        )
    from_status = flag.status
    flag.status = to_status
    flag.status_changed_at = timezone.now()
    flag.save(update_fields=["status", "status_changed_at"])
    audit_record(
        flag_id=flag.pk,
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    flags_mark_buyers(flag_ids=[flag.pk])
    return flag


def flags_mark_buyers(*, flag_ids):
    """Mark every buyer these flags name for relinking and rescoring, in the caller's transaction.

    A flag's status is evidence twice over: for the score of each buyer it names, and for the
    links it asserts — a flag that stops counting may split a buyer in two. The buyers are read
    under the graph lock (identity.marks.identifiers_mark), so no relink can move the identifiers
    between this read and the commit.
    """
    named = FlagIdentifier.objects.filter(flag_id__in=list(flag_ids)).values_list("identifier_id", flat=True)
    identifiers_mark(identifier_ids=sorted(set(named)))
