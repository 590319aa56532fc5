"""The relink: components recomputed from the evidence, with no moment without a score."""

from blacklist.services.flags import flag_retract, flag_submit
from blacklist.services.links import _region, buyers_relink
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from scoring.services.scores import _carry_scores
from tests.conftest import ids, rescore

EMAIL, PHONE = "split@example.com", "+4915177778888"


def submit(persona, ref, **buyer):
    return flag_submit(seller=persona.seller, identifiers=ids(**buyer), reason="extortion", order_ref=ref)[0]


def test_a_split_buyer_keeps_a_score_on_every_identifier_until_rescored(seller_a, seller_b, outsider):
    linking = [submit(p, f"L-{n}", email=EMAIL, phone=PHONE) for n, p in enumerate((seller_a, seller_b))]
    submit(outsider, "O-1", phone=PHONE)
    rescore()
    joined = set(Identifier.objects.values_list("buyer_id", flat=True))
    assert len(joined) == 1
    assert BuyerScore.objects.get(buyer_id=joined.pop()).reporting_sellers == 3

    for persona, flag in zip((seller_a, seller_b), linking, strict=True):
        flag_retract(seller=persona.seller, flag_id=flag.pk)
    buyers_relink(buyer_ids=list(Buyer.objects.values_list("pk", flat=True)), carry=_carry_scores)
    apart = dict(Identifier.objects.values_list("kind", "buyer_id"))
    assert apart["email"] != apart["phone"]
    # Between the relink and the rescore, both halves answer with the last known score.
    assert set(BuyerScore.objects.filter(buyer_id__in=apart.values()).values_list("reporting_sellers", flat=True)) == {
        3
    }
    rescore()
    assert BuyerScore.objects.get(buyer_id=apart["email"]).reporting_sellers == 0
    assert BuyerScore.objects.get(buyer_id=apart["phone"]).reporting_sellers == 1
    assert not Buyer.objects.exclude(pk__in=apart.values()).exists()  # no empty buyer left behind


def test_a_hub_is_found_and_does_not_pull_its_neighbours_into_every_relink(reasons):
    from tests.conftest import make_persona

    locker = "Locker 7, Main Street 1"
    sellers = [make_persona(f"S{n}") for n in range(14)]
    for n in range(7):
        for persona in sellers[2 * n : 2 * n + 2]:
            submit(persona, f"H-{n}", email=f"c{n}@example.com", address=locker)
    rescore()
    hub = Identifier.objects.get(kind="address")
    assert hub.is_hub
    emails = Identifier.objects.filter(kind="email")
    assert emails.values("buyer_id").distinct().count() == 7
    assert hub.buyer_id not in set(emails.values_list("buyer_id", flat=True))
    # A relink of one customer's buyer reaches the hub, but not the six other customers.
    first = emails.first()
    nodes, _, _, _ = _region({first.buyer_id})
    assert set(nodes) == {first.pk, hub.pk}
    assert buyers_relink(buyer_ids=[first.buyer_id]) == ([first.buyer_id], {})  # nothing moved: no lock, no writes


def test_a_region_that_grew_while_it_was_read_is_settled_under_the_lock():
    """Read without the lock, a corroborated link may name an identifier committed after the
    region's identifiers were read: the component then holds an identifier the region lacks, which
    counts as a move (recomputed under the exclusive lock), never a KeyError in the scorer."""
    from blacklist.services.links import _moves
    from identity.graph import Partition

    nodes = {1: ("email", 10, False), 2: ("phone", 10, False)}
    grown = Partition(components=(frozenset({1, 2, 3}),), hubs=frozenset(), corroborated=frozenset(), sellers={})
    settled = Partition(components=(frozenset({1, 2}),), hubs=frozenset(), corroborated=frozenset(), sellers={})
    assert _moves(nodes, grown, {10}) is True
    assert _moves(nodes, settled, {10}) is False


def test_a_relink_joining_many_buyers_writes_their_identifiers_in_one_statement(reasons):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import make_persona

    first, second = make_persona("J1"), make_persona("J2")
    for n in range(5):  # five buyers, each an email and a phone two sellers name together
        for persona in (first, second):
            submit(persona, f"J-{n}", email=f"j{n}@example.com", phone=f"+491517777{n:04d}")
    marked = list(Buyer.objects.values_list("pk", flat=True))
    assert len(marked) == 10
    with CaptureQueriesContext(connection) as queries:
        buyers_relink(buyer_ids=marked, carry=_carry_scores)
    writes = [q["sql"] for q in queries if "UPDATE identity_identifier" in q["sql"]]
    assert len(writes) == 1, writes
    pairs = Identifier.objects.values_list("buyer_id", flat=True)
    assert len(set(pairs)) == 5  # email and phone of each now one buyer
    for n in range(5):
        email, phone = (Identifier.objects.get(pk=pk) for pk in _ids_of(f"j{n}@example.com", f"+491517777{n:04d}"))
        assert email.buyer_id == phone.buyer_id


def _ids_of(email, phone):
    from identity.models import Identifier as Row

    digests = [i.digest for i in ids(email=email, phone=phone)]
    return list(Row.objects.filter(digest__in=digests).order_by("kind").values_list("pk", flat=True))
