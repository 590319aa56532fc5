"""The set-based query helpers of the write paths and the scorer: the `__any` lookup
(riskhub.lookups) and the key table `riskhub.rows.keys_cte`, on whichever database runs the tests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identity.models import Buyer, Identifier
from riskhub.rows import any_of, keys_cte

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


@pytest.mark.parametrize("picked", [(), (0,), (None,), (0, 3, None)])
def test_any_of_matches_its_values(buyers, picked):
    values = [buyers[n].pk if n is not None else 10**12 for n in picked]  # None: a buyer that does not exist
    condition, params = any_of("id", values, "bigint")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM identity_buyer WHERE {condition}", params)  # noqa: S608 - placeholders only
        assert sorted(pk for (pk,) in cursor.fetchall()) == sorted(v for v in values if v != 10**12)


def test_any_of_one_value_is_a_plain_equality(buyers):
    """So the server keeps a generic plan for it: an array's generic plan is costed for an
    unknown count, and a one-buyer score task's reads were planned afresh every time."""
    condition, params = any_of("id", [buyers[0].pk], "bigint")
    assert params == [buyers[0].pk]
    if connection.vendor == "postgresql":
        assert condition == "id = %s::bigint"
        assert any_of("id", [1, 2], "bigint") == ("id = ANY(%s::bigint[])", ["{1,2}"])


def test_any_of_sends_integers_as_the_arrays_text_and_nothing_else(buyers):
    """Integers travel as `{1,2,3}` (riskhub.rows._array_parameter): only numbers reach that text."""
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's")
    assert any_of("id", [3, 10**15, -1], "bigint")[1] == ["{3,1000000000000000,-1}"]
    assert any_of("code", ["a", "b"]) == ("code = ANY(%b::text[])", [["a", "b"]])  # a list, in binary
    with pytest.raises(ValueError):
        any_of("id", [1, "2}, {3"], "bigint")


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


# Text that the text format of an array would have to quote or escape: separators, quotes,
# backslashes, braces, the word NULL, blanks, non-ASCII, and a missing value.
AWKWARD = ["a,b", 'say "hi"', "back\\slash\\", "{braces}", "NULL", "", " spaced ", "Straße – ü € 🙂", None]


def test_text_arrays_reach_the_database_as_they_are():
    """Lists of strings go as one binary parameter (riskhub.rows._array_parameter): each value
    arrives unchanged, in order, whatever it holds."""
    cte, params = keys_cte(
        "wanted", ("code", "n"), [(text, n) for n, text in enumerate(AWKWARD)], types=("text", "bigint")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{cte}SELECT code, n FROM wanted", params)  # noqa: S608 - placeholders only
        assert sorted(cursor.fetchall(), key=lambda row: row[1]) == [(text, n) for n, text in enumerate(AWKWARD)]
        table, table_params = keys_cte("t", ("code",), [(text,) for text in ["x", *AWKWARD]])
        condition, params = any_of("code", AWKWARD[:-1])
        cursor.execute(f"{table}SELECT code FROM t WHERE {condition}", [*table_params, *params])  # noqa: S608
        assert sorted(code for (code,) in cursor.fetchall()) == sorted(AWKWARD[:-1])


def test_keys_cte_of_no_keys_is_an_empty_table():
    cte, params = keys_cte("wanted", ("a", "b"), [])
    with connection.cursor() as cursor:
        cursor.execute(f"{cte}SELECT count(*) FROM wanted", params)  # noqa: S608 - placeholders only
        assert cursor.fetchone() == (0,)


def test_keys_cte_with_types_drives_an_update_of_each_keyed_row(buyers):
    """The relink's identifier write (blacklist.services.links._identifiers_write): integers and
    booleans in a key table, joined by UPDATE … FROM, on both databases."""
    moved = Identifier.objects.filter(buyer__in=buyers[:3]).order_by("pk")
    rows = [(identifier.pk, buyers[5].pk, n == 0) for n, identifier in enumerate(moved)]
    cte, params = keys_cte("moved", ("id", "buyer_id", "is_hub"), rows, types=("bigint", "bigint", "boolean"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"{cte}UPDATE identity_identifier SET buyer_id = moved.buyer_id, is_hub = moved.is_hub "  # noqa: S608
            "FROM moved WHERE identity_identifier.id = moved.id",
            params,
        )
    after = {i.pk: (i.buyer_id, i.is_hub) for i in Identifier.objects.all()}
    assert [after[pk] for pk, _, _ in rows] == [(buyers[5].pk, True), (buyers[5].pk, False), (buyers[5].pk, False)]
    untouched = Identifier.objects.filter(buyer__in=buyers[3:5])
    assert sorted(i.buyer_id for i in untouched) == [buyers[3].pk, buyers[4].pk]
    assert not any(i.is_hub for i in untouched)


def test_aware_reads_datetimes_as_the_orm_does(buyers):
    from datetime import UTC, datetime

    from riskhub.rows import aware

    moment = datetime(2026, 12, 3, 12, 30, 15, 123456, tzinfo=UTC)
    Buyer.objects.filter(pk=buyers[0].pk).update(needs_score_since=moment)
    with connection.cursor() as cursor:
        cursor.execute("SELECT needs_score_since FROM identity_buyer WHERE id = %s", [buyers[0].pk])
        [(raw,)] = cursor.fetchall()
    assert aware(raw) == moment == Buyer.objects.get(pk=buyers[0].pk).needs_score_since
    assert aware(raw).utcoffset().total_seconds() == 0
    assert aware(None) is None
    assert aware("2026-12-03 12:30:15.123456") == moment  # SQLite's text form


def test_insert_many_and_copy_in_write_json_as_django_would(buyers):
    """JSON values reach the database as the ORM writes them (insert_many on PostgreSQL as
    orjson's text, riskhub.rows._json_text; copy_in's COPY as psycopg's jsonb): nesting, non-ASCII
    text, integer keys made text."""
    from datetime import UTC, datetime

    from riskhub.rows import insert_many
    from scoring.models import BuyerScore

    values = [
        {"refund_abuse": {"risk": 0.225, "voices": {"21": [0.225, 0, 0]}, "sellers": 1}},
        {"note": "Nachnahme verweigert – ü € \u2028", "list": [1, 2.5, None, True, {"x": []}]},
        {7: "an integer key", "nested": {3: [0.1, 1e-07, 123456789012]}},
        {},
    ]
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    rows = [(buyer.pk, 10, 1, value, 0, now) for buyer, value in zip(buyers, values, strict=False)]
    insert_many(BuyerScore, ("buyer", "score", "reporting_sellers", "reasons", "lapsed", "computed_at"), rows)
    stored = {s.buyer_id: s.reasons for s in BuyerScore.objects.filter(buyer__in=buyers)}
    assert [stored[buyer.pk] for buyer in buyers[: len(values)]] == [
        {"refund_abuse": {"risk": 0.225, "voices": {"21": [0.225, 0, 0]}, "sellers": 1}},
        {"note": "Nachnahme verweigert – ü € \u2028", "list": [1, 2.5, None, True, {"x": []}]},
        {"7": "an integer key", "nested": {"3": [0.1, 1e-07, 123456789012]}},
        {},
    ]
    # copy_in: enough rows for a COPY rather than its insert_many fallback.
    from riskhub.rows import COPY_MIN_ROWS, copy_in

    more = [Buyer.objects.create() for _ in range(COPY_MIN_ROWS)]
    copy_in(
        BuyerScore,
        ("buyer", "score", "reporting_sellers", "reasons", "lapsed", "computed_at"),
        [(buyer.pk, 10, 1, values[0], 0, now) for buyer in more],
    )
    assert {s.reasons["refund_abuse"]["risk"] for s in BuyerScore.objects.filter(buyer__in=more)} == {0.225}


def test_saved_builds_the_instance_from_db_builds():
    """riskhub.rows.saved: the bulk paths' instances of rows just written are the ORM's own."""
    from django.db.models import signals

    from blacklist.models import Flag, Seller
    from riskhub.rows import _plain_init, saved

    seller = Seller.objects.create(name="A shop")
    stored = Seller.objects.get(pk=seller.pk)
    values = [getattr(stored, f.attname) for f in Seller._meta.concrete_fields]
    built, expected = saved(Seller, values), Seller.from_db("default", None, values)
    assert type(built) is Seller
    assert {k: v for k, v in vars(built).items() if k != "_state"} == {
        k: v for k, v in vars(expected).items() if k != "_state"
    }
    assert (built._state.adding, built._state.db) == (False, "default")
    built.name = "Renamed"
    built.save()  # an UPDATE of the row, not an INSERT
    assert Seller.objects.get(pk=seller.pk).name == "Renamed"
    assert Flag._meta.get_field("seller").attname == "seller_id"  # foreign keys go in by attname

    def listener(**kwargs):
        pass

    _plain_init.cache_clear()
    signals.post_init.connect(listener, sender=Seller)
    try:
        assert _plain_init(Seller) is None  # code runs at init: from_db builds it
        assert saved(Seller, values).name == "A shop"
    finally:
        signals.post_init.disconnect(listener, sender=Seller)
        _plain_init.cache_clear()
    assert _plain_init(Seller) is not None
