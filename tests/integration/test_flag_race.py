"""Races of the write path: two identical submissions (one flag, answered to both), and a writer
against a relink that moves its identifier.

The flags are appended by COPY (riskhub.rows.copy_in), which has no ON CONFLICT: the loser of the
race meets the idempotency constraint and flag_submit_many runs its lookup again. The race is
made deterministic with PostgreSQL itself: a trigger holds the first submission inside its
insert for a second, after its lookup found nothing, while the second submission looks up,
inserts and commits. The first then hits the second's row.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from blacklist.models import AuditEvent, Flag, FlagIdentifier
from blacklist.services.flags import flag_submit
from identity.marks import graph_lock_exclusive
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from tests.conftest import ids, real_stack
from tests.stack import scored_by_worker

pytestmark = [real_stack, pytest.mark.integration]

TRIGGER = """
CREATE SEQUENCE IF NOT EXISTS test_race_once;
CREATE OR REPLACE FUNCTION test_race() RETURNS trigger AS $$
BEGIN
  IF NEW.order_ref LIKE 'RACE-%' AND nextval('test_race_once') = 1 THEN
    PERFORM pg_sleep(1);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_race BEFORE INSERT ON blacklist_flag FOR EACH ROW EXECUTE FUNCTION test_race();
"""


@pytest.fixture
def slow_first_insert(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(TRIGGER)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_race ON blacklist_flag")
        cursor.execute("DROP FUNCTION IF EXISTS test_race()")
        cursor.execute("DROP SEQUENCE IF EXISTS test_race_once")


def test_the_loser_of_an_identical_submission_race_answers_with_the_winners_flag(slow_first_insert, seller_a):
    buyer = ids(email="racer@example.com", phone="+4915100000001")
    # The identifiers exist already, so the two race on the flag itself, not on new identifiers.
    flag_submit(seller=seller_a.seller, identifiers=buyer, reason="refund_abuse", order_ref="EARLIER-1")
    buyers_before = Buyer.objects.count()
    answers = {}

    def submit(name):
        try:
            flag, created = flag_submit(
                seller=seller_a.seller,
                identifiers=buyer,
                reason="refund_abuse",
                order_ref="RACE-1",
            )
            answers[name] = (flag.pk, created)
        finally:
            connection.close()

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    time.sleep(0.3)  # the first is now asleep in its insert, its lookup done
    second = threading.Thread(target=submit, args=("second",))
    second.start()
    second.join(10)
    first.join(10)

    assert answers["second"][1] is True  # it inserted while the first slept
    assert answers["first"] == (answers["second"][0], False)  # the first retried and found it
    flag = Flag.objects.get(order_ref="RACE-1")
    assert flag.pk == answers["second"][0]
    assert AuditEvent.objects.filter(flag_id=flag.pk).count() == 1
    assert FlagIdentifier.objects.filter(flag=flag).count() == 2
    assert Buyer.objects.count() == buyers_before


def _waiting_for_the_graph_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND wait_event = 'advisory' AND query LIKE '%%pg_advisory_xact_lock_shared%%'"
        )
        return cursor.fetchone()[0]


def test_a_writer_marks_the_buyer_a_relink_moved_its_identifier_to(live_reasons, celery_worker, seller_a, seller_b):
    """A writer takes the graph lock only to mark (identity.marks.identifiers_mark), after it has
    read its identifiers and written its flag. A relink that moves one of those identifiers in
    between must not make the writer mark the identifier's old buyer: the new flag would never
    reach the score of the buyer that holds its identifier now."""
    buyer = ids(email="moved@example.com")
    earlier, _ = flag_submit(seller=seller_a.seller, identifiers=buyer, reason="refund_abuse", order_ref="EARLIER-2")
    identifier = earlier.identifiers.get()
    old_owner = identifier.buyer_id
    scored_by_worker(celery_worker, Buyer.objects.filter(pk=old_owner))
    new_owner = Buyer.objects.create().pk
    relink_holds, relink_go, done = threading.Event(), threading.Event(), {}

    def relink():  # the relink's part: the exclusive lock, one identifier moved, commit
        try:
            with transaction.atomic():
                graph_lock_exclusive()
                relink_holds.set()
                relink_go.wait(10)
                Identifier.objects.filter(pk=identifier.pk).update(buyer_id=new_owner)
        finally:
            connection.close()

    def write():
        try:
            done["flag"] = flag_submit(
                seller=seller_b.seller, identifiers=buyer, reason="extortion", order_ref="RACE-MOVE"
            )
        finally:
            connection.close()

    mover = threading.Thread(target=relink)
    mover.start()
    assert relink_holds.wait(10)
    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(200):  # the writer has read the identifier and written its flag; now it waits
        if _waiting_for_the_graph_lock():
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the writer never waited for the graph lock")
    assert Flag.objects.filter(order_ref="RACE-MOVE").count() == 0  # not committed yet
    relink_go.set()
    mover.join(10)
    writer.join(10)

    assert done["flag"][1] is True
    assert Buyer.objects.get(pk=old_owner).needs_score_since is None  # the writer did not mark it
    scored_by_worker(celery_worker, Buyer.objects.filter(pk=new_owner))  # it marked the new owner
    assert set(BuyerScore.objects.get(buyer_id=new_owner).reasons) == {"refund_abuse", "extortion"}
