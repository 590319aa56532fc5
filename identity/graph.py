"""Which identifiers belong together: pure functions over the evidence, no database.

Evidence is a set of assertions (a, b, seller): seller named identifiers a and b together in
one of its counting flags. From it:

    corroborated(a, b)  ⇔  at least `min_sellers` distinct sellers assert the pair
    hub(x)              ⇔  x is asserted with more than `hub_limit` distinct identifiers of one kind
    eligible(a, b)      ⇔  corroborated, neither end a hub, and the pair not severed by an admin
    buyer               =  a connected component of eligible pairs

Everything is recomputed from the evidence, so the result never depends on the order in which
flags arrived, and withdrawing the evidence for a pair undoes whatever it joined.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def pair(a, b):
    """A link's canonical key: the two ends in ascending order."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Partition:
    components: tuple  # frozensets of identifiers, sorted by their smallest member
    hubs: frozenset
    corroborated: frozenset  # canonical pairs
    sellers: Mapping  # canonical pair → frozenset of asserting sellers

    def component_of(self, node):
        for component in self.components:
            if node in component:
                return component
        return frozenset({node})


def link_sellers(assertions: Iterable[tuple]) -> dict:
    """{canonical pair: frozenset of sellers asserting it}; self-pairs are ignored."""
    sellers = defaultdict(set)
    for a, b, seller in assertions:
        if a != b:
            sellers[pair(a, b)].add(seller)
    return {p: frozenset(s) for p, s in sellers.items()}


def hubs_of(links: Iterable[tuple], kinds: Mapping, hub_limit: int) -> frozenset:
    """Identifiers linked to more than `hub_limit` distinct identifiers of one kind."""
    found = Hubs(kinds, hub_limit)
    found.add(links)
    return found.hubs()


class Hubs:
    """`hubs_of` for links that arrive in rounds: each round's links are added once, and the
    hubs so far are known after each, without going over the earlier rounds' links again (the
    relink's region grows that way: blacklist.services.links). Adding a link twice changes
    nothing. `kinds` must know both ends of a link when it is added."""

    def __init__(self, kinds: Mapping, hub_limit: int):
        self.kinds, self.hub_limit = kinds, hub_limit
        self.neighbours = defaultdict(set)  # (node, kind) → its neighbours of that kind
        self.found = set()

    def add(self, links: Iterable[tuple]):
        kinds, neighbours, limit = self.kinds, self.neighbours, self.hub_limit
        for a, b in links:
            for node, other in ((a, b), (b, a)):
                others = neighbours[(node, kinds.get(other))]
                others.add(other)
                if len(others) > limit:
                    self.found.add(node)

    def hubs(self) -> frozenset:
        return frozenset(self.found)


def partition(
    nodes: Iterable,
    assertions: Iterable[tuple],
    *,
    kinds: Mapping,
    min_sellers: int,
    hub_limit: int,
    severed: Iterable[tuple] = (),
) -> Partition:
    """The buyers (components) that `nodes` form under the evidence.

    1. Group assertions by pair, counting distinct sellers (link_sellers).
    2. Find hubs over every asserted pair (corroborated or not: a parcel locker is named with
       many buyers by many different sellers, each alone).
    3. Join the ends of every eligible pair (union-find); every node ends up in one component.
    """
    return partition_linked(
        nodes, link_sellers(assertions), kinds=kinds, min_sellers=min_sellers, hub_limit=hub_limit, severed=severed
    )


def partition_linked(
    nodes: Iterable,
    sellers: Mapping,
    *,
    kinds: Mapping,
    min_sellers: int,
    hub_limit: int,
    severed: Iterable[tuple] = (),
    hubs: frozenset | None = None,
) -> Partition:
    """`partition` from the assertions already grouped: {canonical pair: sellers asserting it}.
    `hubs`: `hubs_of(sellers, kinds, hub_limit)`, when the caller has kept it up to date (Hubs)."""
    if hubs is None:
        hubs = hubs_of(sellers, kinds, hub_limit)
    cut = {pair(a, b) for a, b in severed}
    corroborated = frozenset(p for p, s in sellers.items() if len(s) >= min_sellers)
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for node in nodes:
        find(node)
    for a, b in sorted(corroborated):
        if a in hubs or b in hubs or (a, b) in cut:
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups = defaultdict(set)
    for node in list(parent):
        groups[find(node)].add(node)
    components = tuple(sorted((frozenset(g) for g in groups.values()), key=min))
    return Partition(components=components, hubs=hubs, corroborated=corroborated, sellers=sellers)
