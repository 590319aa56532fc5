"""identity.graph: buyers as components of corroborated links — properties and cases."""

import random

from hypothesis import given
from hypothesis import strategies as st

from identity.graph import pair, partition

KINDS = {n: ("email", "phone", "address")[n % 3] for n in range(40)}


def parts(nodes, assertions, *, min_sellers=2, hub_limit=5, severed=()):
    result = partition(nodes, assertions, kinds=KINDS, min_sellers=min_sellers, hub_limit=hub_limit, severed=severed)
    return {frozenset(c) for c in result.components}, result


def together(components, a, b):
    return any(a in c and b in c for c in components)


def test_a_link_one_seller_asserts_joins_nothing():
    components, result = parts({1, 2}, [(1, 2, "s1"), (1, 2, "s1")])
    assert not together(components, 1, 2)
    assert result.sellers[(1, 2)] == {"s1"}


def test_two_sellers_corroborate_a_link_and_links_chain():
    components, _ = parts({1, 2, 3}, [(1, 2, "s1"), (1, 2, "s2"), (2, 3, "s3"), (3, 2, "s4")])
    assert components == {frozenset({1, 2, 3})}


def test_a_hub_links_nothing_but_stays_a_node():
    # Address 2 is named with six emails by two sellers each: a parcel locker.
    emails = [3, 6, 9, 12, 15, 18]
    assertions = [(2, e, s) for e in emails for s in ("s1", "s2")]
    components, result = parts({2, *emails}, assertions)
    assert 2 in result.hubs
    assert all(frozenset({n}) in components for n in (2, *emails))


def test_a_severed_pair_links_nothing_however_many_sellers_assert_it():
    assertions = [(1, 2, s) for s in ("s1", "s2", "s3")]
    components, _ = parts({1, 2}, assertions, severed=[(2, 1)])
    assert not together(components, 1, 2)


def test_every_node_is_in_exactly_one_component():
    components, _ = parts({1, 2, 3, 4}, [(1, 2, "a"), (1, 2, "b")])
    flat = [n for c in components for n in c]
    assert sorted(flat) == [1, 2, 3, 4]


evidence = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 11), st.sampled_from(["s1", "s2", "s3", "s4"])),
    max_size=40,
)


@given(evidence, st.randoms(use_true_random=False))
def test_the_order_of_arrival_does_not_change_the_result(assertions, rnd):
    nodes = set(range(12))
    shuffled = list(assertions)
    rnd.shuffle(shuffled)
    assert parts(nodes, assertions)[0] == parts(nodes, shuffled)[0]


@given(evidence, st.data())
def test_removing_the_evidence_for_a_link_splits_what_only_it_joined(assertions, data):
    nodes = set(range(12))
    before, result = parts(nodes, assertions, hub_limit=100)
    if not result.corroborated:
        return
    a, b = data.draw(st.sampled_from(sorted(result.corroborated)))
    withdrawn = [x for x in assertions if pair(x[0], x[1]) != (a, b)]
    after, _ = parts(nodes, withdrawn, hub_limit=100)
    # Withdrawing evidence never joins anything: every new component lies inside an old one...
    assert all(any(c <= old for old in before) for c in after)
    # ...and it is exactly as if the link had never been made: a and b stay together only through
    # some other chain of corroborated links.
    assert after == parts(nodes, assertions, hub_limit=100, severed=[(a, b)])[0]
    if not together(after, a, b):
        assert before != after


@given(evidence)
def test_withdrawing_all_evidence_leaves_every_identifier_alone(assertions):
    nodes = set(range(12))
    components, _ = parts(nodes, [])
    assert components == {frozenset({n}) for n in nodes}
    # ...and more evidence never splits what less evidence joined (monotone without hubs).
    few, _ = parts(nodes, assertions[: len(assertions) // 2], hub_limit=100)
    many, _ = parts(nodes, assertions, hub_limit=100)
    assert all(any(c <= m for m in many) for c in few)


def test_component_sizes_are_bounded_by_the_evidence_not_by_chance():
    rnd = random.Random(7)
    assertions = [(rnd.randrange(30), rnd.randrange(30), "solo") for _ in range(200)]
    components, _ = parts(set(range(30)), assertions)
    assert components == {frozenset({n}) for n in range(30)}  # one seller alone never joins


@given(
    links=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=150),
    cuts=st.lists(st.integers(0, 150), max_size=4),
    hub_limit=st.integers(1, 4),
)
def test_hubs_counted_in_rounds_are_the_hubs_of_all_the_links(links, cuts, hub_limit):
    """The relink's region adds each round's links to a Hubs (blacklist.services.links): after
    every round its hubs are hubs_of every link so far, however the links were split and
    whether or not a link came again."""
    from identity.graph import Hubs, hubs_of

    links = [pair(a, b) for a, b in links if a != b]
    bounds = [0, *sorted(min(c, len(links)) for c in cuts), len(links)]
    counted = Hubs(KINDS, hub_limit)
    for start, end in zip(bounds, bounds[1:], strict=False):
        counted.add(links[start:end] + links[: start // 2])  # some earlier links again
        assert counted.hubs() == hubs_of(links[:end], KINDS, hub_limit)
