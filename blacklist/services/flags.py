"""Writing flags: submit (one or many, set-based) and retract."""

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, AuditEvent, Flag, FlagIdentifier, FlagStatus
from identity.identifiers import Identifier as Named
from identity.identifiers import redact
from identity.marks import identifiers_mark
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
    """Record many flags of one seller with a fixed number of statements: the flags in one
    transaction, after their new identifiers in a short one of their own.

    1. Find the flags this seller already filed with the same identifiers, reason and order ref:
       those items answer with the existing flag (created=False), as do repeats within `items`.
    2. Find or create the identifiers of the rest (a new identifier is a buyer of its own), in a
       short transaction of their own, committed before the flags: two batches naming the same
       new buyer wait for each other's identifiers only, never for each other's whole batch (an
       identifier unused after all is a bare digest with no evidence, like one whose flags retention
       purged).
    3. In one transaction: append the flags, the identifiers each names, and one audit event each
       (riskhub.rows.copy_in: a concurrent identical submission that won the race makes this a
       unique violation; the transaction rolls back, and the lookup of step 1 runs again in a new
       one, answering with its flag); then mark the buyers those identifiers belong to as
       needing a relink and a score, read under the graph lock (identity.marks.identifiers_mark),
       which is held only from there to the commit. So every committed flag carries its own "rescore me" mark.
    A flag links nothing by itself: its identifiers join other sellers' evidence only once the
    relink finds a link corroborated (identity.graph).
    Returns [(flag, created)] in the order of `items`.
    """
    items = list(items)
    if not items:
        return []
    found, created = _existing(seller, items), set()
    if fresh := _unfiled(items, found):
        resolved = identifiers_resolve(identifiers=[i for item in fresh for i in item.identifiers])
        found, created = _recorded(seller, items, found, resolved)
    answered = set()
    results = []
    for item in items:  # only the first of repeated items is the one created
        results.append((found[item.key], item.key in created and item.key not in answered))
        answered.add(item.key)
    return results


def _unfiled(items, found):
    """The items with no flag in `found`, the first of each key only."""
    fresh = {}
    for item in items:
        if item.key not in found:
            fresh.setdefault(item.key, item)
    return list(fresh.values())


def _recorded(seller, items, found, resolved, attempts=3):
    """({key: flag} for every item, keys this call inserted): the flags already `found`, and the
    rest inserted, each attempt in one transaction (a savepoint inside the caller's, if any). A
    concurrent identical submission that commits between the lookup and the insert makes the
    insert a unique violation: the attempt rolls back and the lookup, run again, now answers
    with that submission's flag."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                if attempt:
                    found = _existing(seller, items)
                fresh = _unfiled(items, found)
                if not fresh:
                    return found, set()
                inserted = _insert(seller, fresh, resolved, timezone.now())
                return found | inserted, set(inserted)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _existing(seller, items):
    wanted = {item.key for item in items}
    with connection.cursor() as cursor:
        cursor.execute(*_existing_statement(seller, wanted))
        found = [rows.instance(Flag, values) for values in cursor.fetchall()]
    return {key: flag for flag in found if (key := (flag.buyer_key, flag.reason_id, flag.order_ref)) in wanted}


def _existing_statement(seller, wanted):
    """(SQL, params) reading `seller`'s flags with these keys (buyer_key, reason, order_ref).

    Written out like the other per-request statements (riskhub.rows): compiling the ORM query
    cost more CPU than the database spent answering it. Each wanted key must be one probe of the
    unique index behind idempotency (seller, buyer_key, reason, order_ref), whatever the
    statistics say of this seller. So the seller's id travels in the keys' table
    (riskhub.rows.keys_cte), not as a value the planner can look up: a seller the statistics
    have not seen yet (new, or grown since the last ANALYZE, where the most common values cover
    every seller they know) is estimated at one flag, and with one flag every index on seller_id looks as good as
    the unique one. Plans then read all of that seller's flags for every key: as a join, 25–50 ms
    per single flag for a seller with 31,000 (docs/benchmarks.md). Not seeing the value, the
    planner estimates an average seller, for which the full unique key wins; the LATERAL
    subquery that cannot be flattened (OFFSET 0) keeps each key a probe of its own, as in
    identity.services._identifiers_found. (IN lists of buyer keys and of order refs made the
    scan walk every pair of the two.)
    """
    columns = ("buyer_key", "reason_id", "order_ref", "seller_id")
    keys = [(*key, seller.pk) for key in wanted]
    cte, params = rows.keys_cte("wanted", columns, keys, types=("text", "text", "text", "bigint"))
    match = " AND ".join(f"f.{column} = wanted.{column}" for column in columns)
    if connection.vendor == "postgresql":
        sql = (
            f"{cte}SELECT f.* FROM wanted CROSS JOIN LATERAL "  # noqa: S608 - placeholders only
            f"(SELECT {rows.select_list(Flag, 'f')} FROM blacklist_flag f WHERE {match} OFFSET 0) AS f"
        )
    else:  # SQLite (make run) has no LATERAL
        sql = f"{cte}SELECT {rows.select_list(Flag, 'f')} FROM wanted JOIN blacklist_flag f ON {match}"  # noqa: S608
    return sql, params


def _insert(seller, items, resolved, now):
    """Insert the flags of `items` (none of them filed yet), their identifiers' links (`resolved`:
    identifiers_resolve's answer) and audit events, and mark their buyers; returns {key: flag}.
    The flags go in in their keys' order: two submissions of the seller's sharing new flags wait
    for each other on the first they share, never each on one the other holds (a deadlock, which
    PostgreSQL breaks only after its deadlock_timeout, a second)."""
    items = sorted(items, key=lambda item: item.key)
    values = [
        (
            uuid.uuid4(),
            seller.pk,
            item.key[0],
            item.reason,
            item.order_ref,
            redact(item.note or ""),
            item.occurred_at or now,
            now,
            FlagStatus.ACTIVE.value,
            now,
        )
        for item in items
    ]
    rows.copy_in(Flag, _FLAG_FIELDS, values)
    flags = [rows.saved(Flag, row, connection.alias) for row in values]  # saved rows now, as if read back
    named = [(row[0], {i.digest for i in item.identifiers}) for row, item in zip(values, items, strict=True)]
    rows.copy_in(
        FlagIdentifier,
        ("flag", "identifier", "asserts_link"),
        [(flag_id, resolved[digest].id, len(digests) > 1) for flag_id, digests in named for digest in digests],
    )
    actor, active = str(seller.pk), FlagStatus.ACTIVE.value
    rows.copy_in(
        AuditEvent,
        ("flag_id", "actor_type", "actor_id", "action", "from_status", "to_status", "note", "created_at"),
        [(flag_id, ActorType.SELLER.value, actor, "created", "", active, "", now) for flag_id, _ in named],
    )
    # Every identifier, new ones too: committed before the flags, they may have been relinked or
    # scored (their marks cleared) since.
    identifiers_mark(identifier_ids=sorted({resolved[i.digest].id for item in items for i in item.identifiers}))
    return {item.key: flag for flag, item in zip(flags, items, strict=True)}


# Every column, in the model's field order (rows.saved takes the values positionally).
_FLAG_FIELDS = tuple(f.name for f in Flag._meta.concrete_fields)


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
