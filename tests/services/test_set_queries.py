"""The set-based query helpers of the write paths and the scorer: the `__any` lookup
(riskhub.lookups) and the key table `riskhub.rows.keys_cte`, on whichever database runs the tests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identity.models import Buyer, Identifier
from riskhub.rows import keys_cte

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyers():
    made = [Buyer.objects.create() for _ in range(6)]
    for n, buyer in enumerate(made):
        Identifier.objects.create(digest=f"{n:064x}", kind="email", buyer=buyer)
    return made


def test_any_matches_what_in_matches(buyers):
    wanted = [buyers[0].pk, buyers[3].pk, buyers[5].pk, 10**12]
    assert sorted(Buyer.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == sorted(
        Buyer.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    by_buyer = Identifier.objects.filter(buyer_id__any=wanted)  # a foreign key's own lookup
    assert sorted(by_buyer.values_list("buyer_id", flat=True)) == sorted(wanted[:3])
    assert Identifier.objects.filter(buyer__in=wanted).count() == Identifier.objects.filter(buyer__any=wanted).count()


def test_any_of_nothing_matches_nothing(buyers):
    assert list(Buyer.objects.filter(pk__any=[])) == []
    assert list(Buyer.objects.filter(pk__any=[None])) == []


def test_any_is_one_statement_text_whatever_the_count(buyers):
    with CaptureQueriesContext(connection) as queries:
        for count in (1, 2, 5):
            list(Buyer.objects.filter(pk__any=[b.pk for b in buyers[:count]]))
    texts = {q["sql"].split("WHERE")[1] for q in queries}
    if connection.vendor == "postgresql":
        assert all("= ANY(" in t for t in texts), texts
    assert len(queries) == 3


def test_any_with_a_subquery_is_in(buyers):
    inner = Buyer.objects.filter(pk__in=[buyers[1].pk, buyers[2].pk]).values("pk")
    assert sorted(Identifier.objects.filter(buyer_id__any=inner).values_list("buyer_id", flat=True)) == sorted(
        [buyers[1].pk, buyers[2].pk]
    )


@pytest.mark.parametrize("count", [0, 1, 4])
def test_keys_cte_joins_each_key_once(buyers, count):
    keys = [(f"{n:064x}", "email") for n in range(count)] + [("f" * 64, "email")]  # the last is unknown
    cte, params = keys_cte("wanted", ("digest", "kind"), keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{cte}SELECT i.buyer_id FROM wanted JOIN identity_identifier i "  # noqa: S608 - placeholders only
            "ON i.digest = wanted.digest AND i.kind = wanted.kind",
            params,
        )
        found = sorted(pk for (pk,) in cursor.fetchall())
    assert found == sorted(b.pk for b in buyers[:count])


def test_keys_cte_of_no_keys_is_an_empty_table():
    cte, params = keys_cte("wanted", ("a", "b"), [])
    with connection.cursor() as cursor:
        cursor.execute(f"{cte}SELECT count(*) FROM wanted", params)  # noqa: S608 - placeholders only
        assert cursor.fetchone() == (0,)
