"""Writing identity: the rows for the digests a seller sent, and admins' rulings on links."""

from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from identity.marks import buyers_mark, graph_lock_shared
from identity.models import Buyer, Identifier, LinkSeverance
from riskhub.errors import ApplicationError, NotFound
from riskhub.rows import insert_many, keys_cte


class LinkError(ApplicationError):
    status = 400
    code = "invalid_link"


def identifiers_resolve(*, identifiers):
    """The Identifier rows for these (kind, digest) values, creating the unknown ones.

    A new identifier starts as a buyer of its own, unmarked: it has no evidence and no
    corroborated link yet (the only link it can have is the one the caller's flag is about to
    assert, and that flag marks it). Two requests racing on the same new digest collide on its
    unique index; the loser's savepoint rolls back and it retries, now finding the winner's row.
    Outside a transaction (the flag write path) the new rows commit at once, so a racer waits
    for them only, not for the caller's flags. A fixed number of statements whatever the count:
    one read, and for the unknown ones one insert of buyers and identifiers together
    (`_identifiers_create`; row by row on SQLite).
    Returns {digest: IdentifierRow(id, buyer_id)}. Read without the graph lock, a `buyer_id` may
    be moved by a relink before the caller commits: callers mark buyers by identifier id
    (identity.marks.identifiers_mark), which reads them under the lock.
    """
    wanted = {i.digest: i.kind for i in identifiers}
    for attempt in range(3):
        found = _identifiers_found(list(wanted))
        missing = [d for d in wanted if d not in found]
        if not missing:
            return found
        try:
            with transaction.atomic():
                found.update(_identifiers_create({d: wanted[d] for d in missing}))
            return found
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _identifiers_found(digests):
    """{digest: IdentifierRow} for the digests that have a row. Written out (riskhub.rows): the
    ORM's compilation cost more than the lookup itself.

    On PostgreSQL one probe of the unique index per digest, whatever the statistics say: a
    LATERAL subquery that cannot be flattened (OFFSET 0) leaves the planner no join to choose.
    As `digest = ANY(…)` or a join to the digests, a bulk import that outran the table's
    statistics got plans that read the whole table for every chunk (hash join, sequential scan:
    3–6× slower per chunk than the probes, and growing with the table; docs/benchmarks.md).
    """
    if connection.vendor == "postgresql":
        sql = (
            "SELECT i.digest, i.id, i.buyer_id FROM unnest(%b::text[]) AS wanted(digest) CROSS JOIN LATERAL "
            "(SELECT digest, id, buyer_id FROM identity_identifier WHERE digest = wanted.digest OFFSET 0) AS i"
        )
        params = [list(digests)]
    else:
        cte, params = keys_cte("wanted", ("digest",), [(d,) for d in digests])
        sql = f"{cte}SELECT i.digest, i.id, i.buyer_id FROM wanted JOIN identity_identifier i USING (digest)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {digest: IdentifierRow(pk, buyer) for digest, pk, buyer in cursor.fetchall()}


class IdentifierRow(NamedTuple):
    id: int
    buyer_id: int


def _identifiers_create(kinds):
    """New identifiers ({digest: kind}), each with a new buyer of its own: {digest: IdentifierRow}.

    Every new buyer is alike (no identifiers yet), so which one goes with which digest is free:
    on PostgreSQL one statement inserts the buyers in a data-modifying CTE and pairs them with
    the digests by row number (one round trip, where drawing the keys and appending the rows
    took four; docs/benchmarks.md); elsewhere (SQLite under `make run`) row by row.
    """
    now = timezone.now()
    kinds = dict(sorted(kinds.items()))  # in digest order: see _CREATE_SQL
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_SQL, [now, len(kinds), now, list(kinds), list(kinds.values())])
            return {digest: IdentifierRow(pk, buyer) for digest, pk, buyer in cursor.fetchall()}
    buyers = [pk for (pk,) in insert_many(Buyer, ("created_at",), [(now,)] * len(kinds), returning=("id",))]
    rows = [(digest, kind, buyer, False, now) for (digest, kind), buyer in zip(kinds.items(), buyers, strict=True)]
    fields = ("digest", "kind", "buyer", "is_hub", "created_at")
    created = insert_many(Identifier, fields, rows, returning=("digest", "id", "buyer"))
    return {digest: IdentifierRow(pk, buyer) for digest, pk, buyer in created}


# Parameters: created_at, the count, created_at, the digests, their kinds (in the same order; lists
# of strings go in binary, `%b`, as riskhub.rows._array_parameter explains).
# The rows go in in the digests' order, which _identifiers_create sorts: two requests creating
# some of the same new identifiers then wait for each other's on the first they share, never
# each on one the other holds. In the order of their batches they deadlocked, and each deadlock
# stalled both for PostgreSQL's deadlock_timeout, a second, before one of them was rolled back.
_CREATE_SQL = """
WITH buyers AS (
    INSERT INTO identity_buyer (created_at) SELECT %s FROM generate_series(1, %s) RETURNING id
), numbered AS (
    SELECT id, row_number() OVER () AS n FROM buyers
)
INSERT INTO identity_identifier (digest, kind, buyer_id, is_hub, created_at)
SELECT new.digest, new.kind, numbered.id, FALSE, %s
  FROM unnest(%b::text[], %b::text[]) WITH ORDINALITY AS new(digest, kind, n)
  JOIN numbered USING (n)
 ORDER BY new.n
RETURNING digest, id, buyer_id
"""


def link_sever(*, a, b, actor, note=""):
    """An admin's ruling that identifiers `a` and `b` (ids) do not belong together; returns it.

    The pair then links nothing, whoever asserts it, until link_restore. Both ends' buyers are
    marked, so the scorer relinks (splitting them if this link held them together) and rescores.
    Severing a pair that is already severed returns the live ruling unchanged.
    """
    low, high = sorted((a, b))
    if low == high:
        raise LinkError("An identifier cannot be severed from itself.")
    with transaction.atomic():
        graph_lock_shared()
        ends = list(Identifier.objects.filter(pk__in=[low, high]).values_list("buyer_id", flat=True))
        if len(ends) != 2:
            raise NotFound("No such identifier.")
        live = LinkSeverance.objects.filter(low_id=low, high_id=high, restored_at__isnull=True).first()
        if live is not None:
            return live
        ruling = LinkSeverance.objects.create(low_id=low, high_id=high, severed_by=actor, note=note[:1000])
        buyers_mark(buyer_ids=ends)
    return ruling


def link_restore(*, a, b, actor):
    """Lift the live severance of the pair (a, b); its buyers are relinked. 404 if there is none."""
    low, high = sorted((a, b))
    with transaction.atomic():
        graph_lock_shared()
        ruling = LinkSeverance.objects.select_for_update().filter(low_id=low, high_id=high, restored_at=None).first()
        if ruling is None:
            raise NotFound("This link is not severed.")
        ruling.restored_at, ruling.restored_by = timezone.now(), actor
        ruling.save(update_fields=["restored_at", "restored_by"])
        buyers_mark(buyer_ids=Identifier.objects.filter(pk__in=[low, high]).values_list("buyer_id", flat=True))
    return ruling
