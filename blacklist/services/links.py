"""The relink: recompute which identifiers form one buyer, from the flags' evidence.

Flags name identifiers; identifiers named together are a link asserted by the flag's seller.
identity.graph turns that evidence into buyers (connected components of corroborated links);
this module feeds it from the database and writes the result back, for the region of the graph
around some marked buyers. It runs in the scorer, under the exclusive graph lock, so it never
races a writer (identity.marks).
"""

from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blacklist.selectors import link_assertions, severed_pairs
from identity import graph
from identity.marks import graph_lock_exclusive
from identity.models import Buyer, Identifier


def buyers_relink(*, buyer_ids):
    """Recompute the buyers around `buyer_ids`; returns the ids of the buyers to rescore.

    1. Under the exclusive graph lock, gather the region: the identifiers of these buyers, then,
       while some corroborated link leads outside, the whole buyer at its other end.
    2. Partition the region from its evidence (identity.graph.partition).
    3. Each new component keeps the id of the old buyer it holds most of (largest first); the
       rest get new buyers. Identifiers that moved, and hub flags that changed, are written;
       buyers left empty are deleted (with their scores). Buyers that gained or lost
       identifiers are marked, so a crash after this commit is swept up like any other mark.
    Returns the surviving buyers among `buyer_ids` plus every buyer whose membership changed.
    """
    with transaction.atomic():
        graph_lock_exclusive()
        nodes, assertions = _region(set(buyer_ids))
        severed = severed_pairs(identifier_ids=nodes)
        kinds = {pk: kind for pk, (kind, _, _) in nodes.items()}
        kinds.update(_kinds_outside(assertions, nodes))
        result = graph.partition(
            nodes,
            [(a, b, seller) for a, b, seller, _ in assertions],
            kinds=kinds,
            min_sellers=settings.LINK_MIN_SELLERS,
            hub_limit=settings.LINK_HUB_LIMIT,
            severed=severed,
        )
        return _apply(nodes, result, set(buyer_ids))


def _region(buyer_ids):
    """{identifier id: (kind, buyer id, is_hub)} and the assertions touching them, closed under
    corroborated links (see buyers_relink, step 1)."""
    nodes, assertions, done = {}, [], set()
    pending = set(buyer_ids)
    while pending:
        done |= pending
        fresh = {
            pk: (kind, buyer, hub)
            for pk, kind, buyer, hub in Identifier.objects.filter(buyer_id__in=list(pending)).values_list(
                "pk", "kind", "buyer_id", "is_hub"
            )
        }
        nodes.update(fresh)
        found = link_assertions(identifier_ids=fresh) if fresh else []
        assertions += [row for row in found if row[0] in fresh]
        sellers = graph.link_sellers((a, b, s) for a, b, s, _ in assertions)
        outside = {
            end for p, who in sellers.items() if len(who) >= settings.LINK_MIN_SELLERS for end in p if end not in nodes
        }
        pending = set(Identifier.objects.filter(pk__in=outside).values_list("buyer_id", flat=True)) - done
    return nodes, assertions


def _kinds_outside(assertions, nodes):
    outside = {b for _, b, _, _ in assertions if b not in nodes}
    return dict(Identifier.objects.filter(pk__in=outside).values_list("pk", "kind")) if outside else {}


def _apply(nodes, result, asked):
    now = timezone.now()
    old = {pk: buyer for pk, (_, buyer, _) in nodes.items()}
    taken, target = set(), {}
    for component in sorted(result.components, key=lambda c: (-len(c), min(c))):
        counts = Counter(old[pk] for pk in component)
        keep = next((b for b, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if b not in taken), None)
        if keep is None:
            keep = Buyer.objects.create(needs_score_since=now).pk
        taken.add(keep)
        target.update(dict.fromkeys(component, keep))
    moved = [pk for pk in nodes if target[pk] != old[pk]]
    changed = {old[pk] for pk in moved} | {target[pk] for pk in moved}
    hub_flips = [pk for pk, (_, _, hub) in nodes.items() if hub != (pk in result.hubs)]
    for pk in set(moved) | set(hub_flips):
        Identifier.objects.filter(pk=pk).update(buyer_id=target[pk], is_hub=pk in result.hubs)
    retired = (set(old.values()) | asked) - taken
    if retired:
        Buyer.objects.filter(pk__in=retired).delete()
    survivors = sorted(changed - retired)
    if survivors:
        Buyer.objects.filter(pk__in=survivors).update(needs_score_since=now)
    return sorted(((asked & taken) | changed) - retired)
