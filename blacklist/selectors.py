"""Reads for the blacklist app."""

import time
import uuid
from collections import defaultdict

from django.conf import settings
from django.db import connection

from blacklist.models import COUNTING_STATUSES, Flag, FlagIdentifier, Reason
from identity.models import Identifier, LinkSeverance
from riskhub.rows import any_of

# Reasons are read on every flag and decision, so they are cached in-process for a short while;
# admin edits take effect within REASONS_TTL seconds everywhere.
REASONS_TTL = 30.0
_reasons = {"at": 0.0, "rows": None}


def flags_of(*, seller, reason=None, status=None):
    """The seller's own flags, newest first."""
    flags = Flag.objects.filter(seller=seller)
    if reason:
        flags = flags.filter(reason_id=reason)
    if status:
        flags = flags.filter(status=status)
    return flags.order_by("-created_at", "-id")


def reasons_all():
    return Reason.objects.all()


def reasons_cached():
    """{code: Reason}, at most REASONS_TTL seconds old. The same dict until it is reloaded."""
    now = time.monotonic()
    if _reasons["rows"] is None or now - _reasons["at"] > REASONS_TTL:
        _reasons["rows"] = {r.code: r for r in Reason.objects.all()}
        _reasons["at"] = now
    return _reasons["rows"]


def reasons_forget():
    _reasons["rows"] = None


def link_assertions(*, identifier_ids, flags=True):
    """(a, b, seller id, flag id) for every link a counting flag asserts between one of these
    identifiers (a) and another identifier it names (b): every link touching them, complete.
    `flags=False`: the distinct (a, b, seller id) alone — what the relink weighs, in fewer rows
    (a seller naming a pair in many flags is one assertion of it).

    Only rows of flags naming several identifiers are looked at (a partial index): the relink runs
    this on every score task, and most flags name a single identifier.
    """
    ids = list(identifier_ids)
    if not ids:
        return []
    named, params = any_of("a.identifier_id", ids, "bigint")
    columns = "a.identifier_id, b.identifier_id, f.seller_id" + (", f.id" if flags else "")
    sql = _LINK_ASSERTIONS_SQL.format(
        columns=columns if flags else f"DISTINCT {columns}",
        named=named,
        counting=", ".join(["%s"] * len(COUNTING_STATUSES)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *COUNTING_STATUSES])
        if not flags:
            return cursor.fetchall()
        # psycopg already answers UUIDs; SQLite (make run) answers their hex.
        return [
            (a, b, seller, flag if isinstance(flag, uuid.UUID) else uuid.UUID(flag))
            for a, b, seller, flag in cursor.fetchall()
        ]


_LINK_ASSERTIONS_SQL = """
SELECT {columns}
  FROM blacklist_flagidentifier a
  JOIN blacklist_flagidentifier b ON b.flag_id = a.flag_id AND b.identifier_id <> a.identifier_id
  JOIN blacklist_flag f ON f.id = a.flag_id
 WHERE a.asserts_link AND {named} AND f.status IN ({counting})
"""


def severed_pairs(*, identifier_ids):
    """{(low id, high id)} of the severed links (not restored) touching these identifiers. Written
    out, like link_assertions: every score task runs it, and compiling it through the ORM cost
    more than the lookup (docs/benchmarks.md)."""
    ids = list(identifier_ids)
    if not ids:
        return set()
    low, low_params = any_of("low_id", ids, "bigint")
    high, high_params = any_of("high_id", ids, "bigint")
    sql = f"SELECT low_id, high_id FROM identity_linkseverance WHERE restored_at IS NULL AND ({low} OR {high})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*low_params, *high_params])
        return set(cursor.fetchall())


def links_of(identifier_id):
    """Every link of one identifier asserted by a counting flag: the other end, the sellers and
    flags asserting it, and whether it is corroborated or severed (accountability, admin)."""
    assertions = [row for row in link_assertions(identifier_ids=[identifier_id]) if row[0] == identifier_id]
    by_end = defaultdict(lambda: (set(), set()))
    for _, other, seller, flag in assertions:
        by_end[other][0].add(seller)
        by_end[other][1].add(flag)
    kinds = dict(Identifier.objects.filter(pk__in=list(by_end)).values_list("pk", "kind"))
    severed = severed_pairs(identifier_ids=[identifier_id])
    return [
        {
            "other": other,
            "other_kind": kinds.get(other, ""),
            "sellers": sorted(sellers),
            "flags": sorted(flags, key=str),
            "corroborated": len(sellers) >= settings.LINK_MIN_SELLERS,
            "severed": tuple(sorted((identifier_id, other))) in severed,
        }
        for other, (sellers, flags) in sorted(by_end.items())
    ]


def severed_link_flags():
    """{seller id: how many of its flags assert a link an admin has severed (and not restored)}."""
    live = LinkSeverance.objects.filter(restored_at__isnull=True)
    counts = defaultdict(set)
    for low, high in live.values_list("low_id", "high_id").iterator():
        naming_low = FlagIdentifier.objects.filter(identifier_id=low).values("flag_id")
        both = Flag.objects.filter(pk__in=naming_low, identifiers=high).values_list("seller_id", "pk")
        for seller_id, flag_id in both:
            counts[seller_id].add(flag_id)
    return {seller: len(flags) for seller, flags in counts.items()}


EXPORT_FIELDS = (
    "id",
    "reason",
    "order_ref",
    "status",
    "occurred_at",
    "created_at",
    "status_changed_at",
    "note",
    "named",
)


def flags_export(*, seller, reason=None, status=None, chunk=2000):
    """The seller's own flags as plain rows (EXPORT_FIELDS), oldest first, streamed from the
    database in chunks so an export of any size runs in constant memory. `named` lists the kinds
    of identifier each flag named (the identifiers themselves are only held as digests)."""
    flags = Flag.objects.filter(seller=seller)
    if reason:
        flags = flags.filter(reason_id=reason)
    if status:
        flags = flags.filter(status=status)
    rows = flags.order_by("created_at", "id").values_list(
        "id", "reason_id", "order_ref", "status", "occurred_at", "created_at", "status_changed_at", "note"
    )
    batch = []
    for row in rows.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) == chunk:
            yield from _with_kinds(batch)
            batch = []
    yield from _with_kinds(batch)


def _with_kinds(batch):
    kinds = defaultdict(set)
    named = FlagIdentifier.objects.filter(flag_id__in=[row[0] for row in batch])
    for flag_id, kind in named.values_list("flag_id", "identifier__kind"):
        kinds[flag_id].add(kind)
    for row in batch:
        yield dict(zip(EXPORT_FIELDS, (*row, ",".join(sorted(kinds[row[0]]))), strict=True))
