"""Writing flags: submit (one or many, set-based) and retract."""

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db import connection, transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, AuditEvent, Flag, FlagIdentifier, FlagStatus
from identity.identifiers import Identifier as Named
from identity.identifiers import redact
from identity.marks import buyers_mark, graph_lock_shared
from identity.services import identifiers_resolve
from riskhub import rows
from riskhub.errors import NotFound


@dataclass(frozen=True)
class FlagInput:
    """One flag as a seller submits it (identifiers already normalised and digested)."""

    identifiers: tuple[Named, ...]
    reason: str
    order_ref: str
    occurred_at: datetime | None = None
    note: str = field(default="", compare=False)

    @cached_property
    def key(self):
        return (buyer_key(self.identifiers), self.reason, self.order_ref)


def buyer_key(identifiers):
    """One key for the set of digests a flag names: "the same buyer" for idempotency."""
    return hashlib.sha256("\n".join(sorted({i.digest for i in identifiers})).encode()).hexdigest()


def flag_submit(*, seller, identifiers, reason, order_ref, occurred_at=None, note=""):
    """Record one flag; idempotent on seller + identifiers + reason + order_ref. Returns (flag, created)."""
    item = FlagInput(tuple(identifiers), reason, order_ref, occurred_at, note)
    return flag_submit_many(seller=seller, items=[item])[0]


def flag_submit_many(*, seller, items):
    """Record many flags of one seller in one transaction and a fixed number of statements.

    1. Take the graph lock shared (identity.marks): no relink moves an identifier until commit.
    2. Find the flags this seller already filed with the same identifiers, reason and order ref:
       those items answer with the existing flag (created=False), as do repeats within `items`.
    3. Find or create the identifiers of the rest (a new identifier is a buyer of its own).
    4. Insert the flags (ON CONFLICT DO NOTHING: a concurrent identical submission that won the
       race is read back and answered instead), the identifiers each names, and one audit event
       each; mark the buyers they name as needing a relink and a score. All in this transaction,
       so every committed flag carries its own "rescore me" mark.
    A flag links nothing by itself: its identifiers join other sellers' evidence only once the
    relink finds a link corroborated (identity.graph).
    Returns [(flag, created)] in the order of `items`.
    """
    items = list(items)
    if not items:
        return []
    with transaction.atomic():
        graph_lock_shared()
        found = _existing(seller, items)
        fresh = {}
        for item in items:
            if item.key not in found:
                fresh.setdefault(item.key, item)
        created = set()
        if fresh:
            inserted, created = _insert(seller, list(fresh.values()), timezone.now())
            found.update(inserted)
    answered = set()
    results = []
    for item in items:  # only the first of repeated items is the one created
        results.append((found[item.key], item.key in created and item.key not in answered))
        answered.add(item.key)
    return results


def _existing(seller, items):
    wanted = {item.key for item in items}
    keys, refs = sorted({key for key, _, _ in wanted}), sorted({ref for _, _, ref in wanted})
    # Written out like the other per-request statements (riskhub.rows): compiling the ORM query
    # cost more CPU than the database spent answering it. (seller, buyer_key) leads the unique
    # index behind idempotency, so this is an index lookup.
    sql = (
        f"SELECT {rows.select_list(Flag, 'f')} FROM blacklist_flag f "  # noqa: S608 - placeholders only
        f"WHERE f.seller_id = %s AND f.buyer_key IN ({rows.placeholders(keys)}) "
        f"AND f.order_ref IN ({rows.placeholders(refs)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [seller.pk, *keys, *refs])
        found = [rows.instance(Flag, values) for values in cursor.fetchall()]
    return {key: flag for flag in found if (key := (flag.buyer_key, flag.reason_id, flag.order_ref)) in wanted}


def _insert(seller, items, now):
    """Insert new flags; returns ({key: flag}, keys this call inserted)."""
    resolved = identifiers_resolve(identifiers=[i for item in items for i in item.identifiers])
    flags = [
        Flag(
            id=uuid.uuid4(),
            seller=seller,
            buyer_key=item.key[0],
            reason_id=item.reason,
            order_ref=item.order_ref,
            occurred_at=item.occurred_at or now,
            note=redact(item.note or ""),
            status=FlagStatus.ACTIVE,
            created_at=now,
            status_changed_at=now,
        )
        for item in items
    ]
    values = [[getattr(f, a) for a in _FLAG_ATTRS] for f in flags]
    inserted = {pk for (pk,) in rows.insert_many(Flag, _FLAG_FIELDS, values, ignore_conflicts=True, returning=("id",))}
    created = [(flag, item) for flag, item in zip(flags, items, strict=True) if flag.pk in inserted]
    for flag, _ in created:  # saved rows now, as if read back (a later save() updates them)
        flag._state.adding, flag._state.db = False, connection.alias
    result = {item.key: flag for flag, item in created}
    lost = [item for flag, item in zip(flags, items, strict=True) if flag.pk not in inserted]
    if lost:  # concurrent identical submissions won the race: answer with their flags
        result.update(_existing(seller, lost))
    named = [(flag, {i.digest for i in item.identifiers}) for flag, item in created]
    rows.insert_many(
        FlagIdentifier,
        ("flag", "identifier", "asserts_link"),
        [(flag.pk, resolved[digest].id, len(digests) > 1) for flag, digests in named for digest in digests],
    )
    rows.insert_many(
        AuditEvent,
        ("flag_id", "actor_type", "actor_id", "action", "from_status", "to_status", "note", "created_at"),
        [(flag.pk, ActorType.SELLER, str(seller.pk), "created", "", FlagStatus.ACTIVE, "", now) for flag, _ in created],
    )
    buyers_mark(buyer_ids={resolved[i.digest].buyer_id for _, item in created for i in item.identifiers})
    return result, {item.key for _, item in created}


_FLAG_FIELDS = (
    "id",
    "seller",
    "buyer_key",
    "reason",
    "order_ref",
    "note",
    "occurred_at",
    "created_at",
    "status",
    "status_changed_at",
)
_FLAG_ATTRS = tuple(Flag._meta.get_field(name).attname for name in _FLAG_FIELDS)


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
