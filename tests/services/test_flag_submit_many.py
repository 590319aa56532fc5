"""flag_submit_many: set-based, and the same outcome as submitting the flags one by one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blacklist.models import AuditEvent, Flag, FlagIdentifier
from blacklist.services.flags import FlagInput, flag_submit, flag_submit_many
from identity.models import Buyer, Identifier
from tests.conftest import ids


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
    flag_submit_many(seller=seller_a.seller, items=items(5, prefix="warm"))  # reasons cached etc.
    counts = []
    for size in (10, 200):
        with CaptureQueriesContext(connection) as queries:
            flag_submit_many(seller=seller_a.seller, items=items(size, prefix=f"s{size}"))
        counts.append([statement(q["sql"]) for q in queries])
    if connection.vendor == "postgresql":  # SQLite splits big inserts by its variable limit
        # the transaction (a savepoint in a test), the savepoint the race retries in, 2 reads, a savepoint
        # around the new identifiers (2 key draws, 2 appends), 3 appends, the constraints checked (2 SETs),
        # the lock, 1 mark, 3 releases
        assert counts[0] == counts[1], counts
        assert len(counts[0]) <= 19, " | ".join(counts[0])


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
