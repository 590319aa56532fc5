"""flag_submit_many: set-based, and the same outcome as submitting the flags one by one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from blacklist.models import AuditEvent, Flag, FlagIdentifier
from blacklist.services.flags import FlagInput, _existing_statement, flag_submit, flag_submit_many
from identity.marks import identifiers_mark
from identity.models import Buyer, Identifier
from riskhub.rows import COPY_MIN_ROWS
from tests.conftest import ids
from tests.plans import FLAGS_SQL, plan_nodes


def items(n, *, prefix="m"):
    return [
        FlagInput(
            identifiers=tuple(ids(email=f"{prefix}{i % 7}@example.com", phone=f"+4915100{i % 5:06d}")),
            reason=("extortion", "refund_abuse")[i % 2],
            order_ref=f"O-{i}",
            note=f"note {i}" if i % 3 == 0 else "",
        )
        for i in range(n)
    ]


def snapshot(seller):
    flags = Flag.objects.filter(seller=seller)
    return {
        "flags": sorted(flags.values_list("buyer_key", "reason_id", "order_ref", "status", "note")),
        "named": sorted(
            FlagIdentifier.objects.filter(flag__seller=seller).values_list("flag__order_ref", "identifier__digest")
        ),
        "audit": AuditEvent.objects.filter(action="created", actor_id=str(seller.pk)).count(),
    }


def test_many_equals_one_by_one(seller_a, seller_b):
    batch = items(40)
    answers = flag_submit_many(seller=seller_a.seller, items=batch)
    assert [created for _, created in answers] == [True] * 40
    for item in batch:
        flag_submit(
            seller=seller_b.seller,
            identifiers=item.identifiers,
            reason=item.reason,
            order_ref=item.order_ref,
            note=item.note,
        )
    assert snapshot(seller_a.seller) == snapshot(seller_b.seller)
    assert Identifier.objects.count() == 7 + 5
    assert Buyer.objects.filter(needs_score_since__isnull=False).count() == 12


def test_repeats_answer_with_the_existing_flag(seller_a):
    first = items(3)
    flag_submit_many(seller=seller_a.seller, items=first[:1])
    answers = flag_submit_many(seller=seller_a.seller, items=[first[0], first[1], first[1], first[2]])
    assert [created for _, created in answers] == [False, True, False, True]
    assert answers[1][0].pk == answers[2][0].pk
    assert Flag.objects.count() == 3


def statement(sql):
    """`SAVEPOINT`, `append "blacklist_flag"`, …: what the statement is, without its variable parts.
    An append is a COPY, or an INSERT below riskhub.rows.COPY_MIN_ROWS rows: the same statement."""
    words = sql.split()
    if words[0] == "COPY" or words[:2] == ["INSERT", "INTO"]:
        return f"append {words[1] if words[0] == 'COPY' else words[2]}"
    return " ".join(words[:2]) if words[0] == "SELECT" else words[0]


def test_a_batch_costs_a_fixed_number_of_statements(seller_a):
    # Warm up past COPY_MIN_ROWS, so the appends' one-off column-type reads are done.
    flag_submit_many(seller=seller_a.seller, items=items(COPY_MIN_ROWS, prefix="warm"))
    counts = []
    for size in (10, 200):
        with CaptureQueriesContext(connection) as queries:
            flag_submit_many(seller=seller_a.seller, items=items(size, prefix=f"s{size}"))
        counts.append([statement(q["sql"]) for q in queries])
    if connection.vendor == "postgresql":  # SQLite splits big inserts by its variable limit
        # 2 reads (the flags already filed, the identifiers known); the new identifiers (1 statement)
        # in their transaction; the flags' transaction: 3 appends, the constraints checked and the
        # graph lock taken (one simple query: SET …; SET …; SELECT pg_advisory_xact_lock_shared),
        # 1 mark. In a test both transactions are savepoints (SAVEPOINT, RELEASE); outside one,
        # BEGIN and COMMIT, which Django does not log.
        assert counts[0] == counts[1], counts
        assert counts[0] == [
            "WITH",
            "SELECT i.digest,",
            "SAVEPOINT",
            "WITH",
            "RELEASE",
            "SAVEPOINT",
            'append "blacklist_flag"',
            'append "blacklist_flagidentifier"',
            'append "blacklist_auditevent"',
            "SET",
            "UPDATE",
            "RELEASE",
        ]


def test_every_deferrable_constraint_starts_deferred(db):
    """identity.marks.identifiers_mark checks the deferred foreign keys early, then restores the
    transaction with SET CONSTRAINTS ALL DEFERRED: right only while no deferrable constraint of
    the schema is declared INITIALLY IMMEDIATE."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no SET CONSTRAINTS")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND c.condeferrable AND NOT c.condeferred"
        )
        assert cursor.fetchall() == []


def test_the_idempotency_lookup_probes_every_key_for_a_seller_the_statistics_have_not_seen(seller_a, seller_b):
    """A seller new to the statistics (its flags written since the last ANALYZE, which saw only
    other sellers: their most common values cover every flag) is estimated at one flag, and then
    any index on seller_id looks as good as the unique one: plans read all of that seller's flags
    for every key (25–50 ms per single flag at 31,000 flags). Each key must be one probe of the
    unique index, on all four of its columns."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    with connection.cursor() as cursor:
        # A table the size of the bench's (its unique index a level deeper than the others), then
        # statistics that know seller B only, then seller A's flags.
        cursor.execute(FLAGS_SQL, [seller_b.seller.pk, "B", 200_000])
        cursor.execute("ANALYZE blacklist_flag")
        cursor.execute(FLAGS_SQL, [seller_a.seller.pk, "A", 5_000])
    wanted = {item.key for item in items(3, prefix="absent")}
    sql, params = _existing_statement(seller_a.seller, wanted)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")  # the plan for these values
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        [(plan,)] = cursor.fetchall()
    scans = list(plan_nodes(plan[0]["Plan"], "Index Scan"))
    assert len(scans) == 1, plan
    assert scans[0]["Index Name"] == "flag_one_per_seller_buyer_reason_order", scans[0]
    assert all(column in scans[0]["Index Cond"] for column in ("seller_id", "buyer_key", "order_ref")), scans[0]
    assert scans[0]["Actual Rows"] == 0 and "Rows Removed by Filter" not in scans[0], scans[0]


def test_marking_a_chunks_buyers_probes_each_buyer_whatever_the_statistics(db):
    """identity.marks marks an import chunk's buyers (1,300 here) among a table the statistics
    know: as `id IN (…)` the planner chose two hash joins reading every buyer (61 ms at 240,000
    buyers against 8 ms as probes), a cost growing with the table. Every buyer must be a probe of
    the primary key, and every one of them marked."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO identity_buyer (created_at) SELECT now() FROM generate_series(1, 200000)")
        cursor.execute(
            "INSERT INTO identity_identifier (digest, kind, buyer_id, is_hub, created_at) "
            "SELECT md5(id::text), 'email', id, FALSE, now() FROM identity_buyer"
        )
        cursor.execute("ANALYZE identity_buyer, identity_identifier")
        cursor.execute("SELECT id, buyer_id FROM identity_identifier ORDER BY id DESC LIMIT 1300")
        identifiers, buyers = zip(*cursor.fetchall(), strict=True)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        identifiers_mark(identifier_ids=identifiers)
    [update] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE identity_buyer")]
    assert set(Buyer.objects.filter(needs_score_since__isnull=False).values_list("pk", flat=True)) == set(buyers)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")  # the plan for these values
        cursor.execute(f"EXPLAIN (FORMAT JSON) {update}")
        [(plan,)] = cursor.fetchall()
    assert not list(plan_nodes(plan[0]["Plan"], "Seq Scan")), plan
    assert len(list(plan_nodes(plan[0]["Plan"], "Index Scan"))) == 3, plan


def test_new_identifiers_and_flags_go_in_in_one_order_whatever_the_batch_order(seller_a):
    """Two batches creating some of the same new identifiers (or one seller's same new flags) in
    opposite orders deadlocked, a second's stall each time: the rows go in sorted by digest (by
    key), so concurrent writers take their locks in one order. Identity ids and the flags' audit
    events are numbered in insertion order."""
    batch = items(30, prefix="order")
    flag_submit_many(seller=seller_a.seller, items=list(reversed(batch)))
    by_id = list(Identifier.objects.order_by("id").values_list("digest", flat=True))
    assert by_id == sorted(by_id)
    flags = {flag.pk: flag for flag in Flag.objects.filter(seller=seller_a.seller)}
    events = AuditEvent.objects.filter(flag_id__in=flags, action="created").order_by("id")
    keys = [(flags[e.flag_id].buyer_key, flags[e.flag_id].reason_id, flags[e.flag_id].order_ref) for e in events]
    assert keys == sorted(keys) and len(keys) == len(set(keys)) > 1
