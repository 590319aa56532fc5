"""The relink: recompute which identifiers form one buyer, from the flags' evidence.

Flags name identifiers; identifiers named together are a link asserted by the flag's seller.
identity.graph turns that evidence into buyers (connected components of corroborated links);
this module feeds it from the database and writes the result back, for the region of the graph
around some marked buyers. It runs in the scorer, under the exclusive graph lock, so it never
races a writer (identity.marks).
"""

from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from blacklist.selectors import link_assertions, severed_pairs
from identity import graph
from identity.marks import graph_lock_exclusive
from identity.models import Buyer
from riskhub.rows import any_of, keys_cte


def buyers_relink(*, buyer_ids, carry=None):
    """Recompute the buyers around `buyer_ids`.

    1. Gather the region: the identifiers of these buyers, then, while a corroborated link from
       a non-hub leads outside, the whole buyer at its other end; partition it from its evidence
       (identity.graph.partition).
    2. Nothing to move (the usual case): done, without the exclusive lock, so writers never wait.
       A writer that commits meanwhile has marked its buyers, and the scorer's compare-and-clear
       leaves that mark for another round.
    3. Else, under the exclusive graph lock, step 1 again, and apply it: each new component keeps
       the id of the old buyer it holds most of (largest first); the rest get new buyers.
       Identifiers that moved, and hub flags that changed, are written. `carry({new buyer id:
       the old buyer it came from})` runs next, in this transaction, so the scorer can hand new
       buyers a provisional score before anyone can read them. Buyers left empty are deleted
       (with their scores); buyers that gained or lost identifiers are marked, so a crash after
       this commit is swept up like any other mark.
    Returns (the surviving buyers among `buyer_ids` plus every buyer whose membership changed,
    {buyer id: the mark this relink wrote on it}).
    """
    asked = set(buyer_ids)
    with transaction.atomic():
        nodes, result = _partition(asked)
        if not _moves(nodes, result, asked):
            return sorted({buyer for _, buyer, _ in nodes.values()} & asked), {}
        graph_lock_exclusive()
        nodes, result = _partition(asked)
        return _apply(nodes, result, asked, carry)


def _partition(asked):
    nodes, sellers, kinds, hubs = _region(asked)
    # Only identifiers with asserted links can have a severed one.
    asserting = {end for linked in sellers for end in linked if end in nodes}
    result = graph.partition_linked(
        nodes,
        sellers,
        kinds=kinds,
        min_sellers=settings.LINK_MIN_SELLERS,
        hub_limit=settings.LINK_HUB_LIMIT,
        severed=severed_pairs(identifier_ids=asserting) if asserting else (),
        hubs=hubs,
    )
    return nodes, result


def _moves(nodes, result, asked):
    """Whether applying `result` would change anything: a buyer split or joined, a hub flag
    flipped, or an asked buyer left without identifiers. Read without the lock, the region may
    have grown between two of its queries (a writer committed a flag meanwhile): a component
    naming an identifier the region did not read is settled under the lock too."""
    old = {pk: buyer for pk, (_, buyer, _) in nodes.items()}
    if asked - set(old.values()):
        return True
    if any(pk not in old for component in result.components for pk in component):
        return True
    if any(hub != (pk in result.hubs) for pk, (_, _, hub) in nodes.items()):
        return True
    owners = [{old[pk] for pk in component} for component in result.components]
    return any(len(o) != 1 for o in owners) or len(owners) != len(set(old.values()))


def _region(buyer_ids):
    """The region around these buyers, closed under eligible links (see buyers_relink, step 1):
    ({identifier id: (kind, buyer id, is_hub)}, {canonical pair: sellers asserting it} for every
    link touching them (identity.graph.link_sellers), {id: kind} of every identifier they touch,
    the hubs among the identifiers those links join (identity.graph.hubs_of)).
    A hub's own links are all known once it is in the region, so it is found a hub there and the
    region does not grow through it: a parcel locker named with a thousand buyers does not drag
    them all into every relink of one of them. The links are gathered as the region grows, each
    round adding only the new identifiers' links (and counting only those towards the hubs:
    counting every link again each round was a tenth of a relinking score task's CPU)."""
    nodes, sellers, kinds, done = {}, {}, {}, set()
    counted = graph.Hubs(kinds, settings.LINK_HUB_LIMIT)
    pending = set(buyer_ids)
    while pending:
        done |= pending
        fresh = {
            pk: (kind, buyer, bool(hub))
            for pk, kind, buyer, hub in _identifier_rows("id, kind, buyer_id, is_hub", "buyer_id", pending)
        }
        nodes.update(fresh)
        kinds.update((pk, kind) for pk, (kind, _, _) in fresh.items())
        found = link_assertions(identifier_ids=fresh, flags=False) if fresh else []
        unknown = {b for _, b, _ in found if b not in kinds}
        if unknown:
            kinds.update(_identifier_rows("id, kind", "id", unknown))
        grouped = graph.link_sellers(found)
        for linked, who in grouped.items():
            sellers[linked] = sellers.get(linked, frozenset()) | who
        counted.add(grouped)
        hubs = counted.hubs() & set(nodes)
        outside = {
            b if a in nodes else a
            for (a, b), who in sellers.items()
            if len(who) >= settings.LINK_MIN_SELLERS and (a in nodes) != (b in nodes) and not ({a, b} & hubs)
        }
        pending = {buyer for (buyer,) in _identifier_rows("buyer_id", "id", outside)} - done if outside else set()
    return nodes, sellers, kinds, counted.hubs()


def _identifier_rows(columns, key, values):
    """`columns` of the identifiers whose `key` column is one of `values`. Written out: the region
    runs these in every score task, and their ORM compilation cost more than the lookups
    (docs/benchmarks.md)."""
    condition, params = any_of(key, values, "bigint")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM identity_identifier WHERE {condition}", params)  # noqa: S608
        return cursor.fetchall()


def _identifiers_write(rows):
    """Give each identifier of `rows` (id, buyer id, is_hub) its buyer and hub flag: one UPDATE
    joined to a key table (riskhub.rows.keys_cte), whatever the count. As one ORM update per
    (buyer, hub) pair, a relink that joined many buyers spent an eighth of its score task
    compiling them (docs/benchmarks.md)."""
    if not rows:
        return
    cte, params = keys_cte("moved", ("id", "buyer_id", "is_hub"), rows, types=("bigint", "bigint", "boolean"))
    sql = (
        f"{cte}UPDATE identity_identifier SET buyer_id = moved.buyer_id, is_hub = moved.is_hub "  # noqa: S608
        "FROM moved WHERE identity_identifier.id = moved.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _apply(nodes, result, asked, carry):
    now = timezone.now()
    old = {pk: buyer for pk, (_, buyer, _) in nodes.items()}
    taken, target, successors = set(), {}, {}
    for component in sorted(result.components, key=lambda c: (-len(c), min(c))):
        ranked = [b for b, _ in sorted(Counter(old[pk] for pk in component).items(), key=lambda kv: (-kv[1], kv[0]))]
        keep = next((b for b in ranked if b not in taken), None)
        if keep is None:
            keep = Buyer.objects.create(needs_score_since=now).pk
            successors[keep] = ranked[0]
        taken.add(keep)
        target.update(dict.fromkeys(component, keep))
    moved = [pk for pk in nodes if target[pk] != old[pk]]
    changed = {old[pk] for pk in moved} | {target[pk] for pk in moved}
    hub_flips = [pk for pk, (_, _, hub) in nodes.items() if hub != (pk in result.hubs)]
    _identifiers_write([(pk, target[pk], pk in result.hubs) for pk in sorted(set(moved) | set(hub_flips))])
    if successors and carry is not None:
        carry(successors)
    retired = (set(old.values()) | asked) - taken
    if retired:
        Buyer.objects.filter(pk__in=retired).delete()
    survivors = sorted(changed - retired)
    if survivors:
        Buyer.objects.filter(pk__in=survivors).update(needs_score_since=now)
    return sorted(((asked & taken) | changed) - retired), dict.fromkeys(survivors, now)
