"""Two identical submissions racing: one flag, answered to both.

The flags are appended by COPY (riskhub.rows.copy_in), which has no ON CONFLICT: the loser of the
race meets the idempotency constraint and flag_submit_many runs its lookup again. The race is
made deterministic with PostgreSQL itself: a trigger holds the first submission inside its
insert for a second, after its lookup found nothing, while the second submission looks up,
inserts and commits. The first then hits the second's row.
"""

import threading
import time

import pytest
from django.db import connection

from blacklist.models import AuditEvent, Flag, FlagIdentifier
from blacklist.services.flags import flag_submit
from identity.models import Buyer
from tests.conftest import ids, real_stack

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
