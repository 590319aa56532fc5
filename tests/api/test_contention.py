"""Deadlocks and serialization failures: retried per item; one that persists is that item's 503.

The failures are PostgreSQL's own: a trigger on the flag table raises them with the real
SQLSTATEs (40P01 deadlock_detected, 40001 serialization_failure), as a lost lock race would.
"""

import pytest
from django.db import connection

from blacklist.models import Flag
from tests.conftest import real_stack

pytestmark = [real_stack, pytest.mark.integration]

TRIGGER = """
CREATE SEQUENCE IF NOT EXISTS test_contention_once;
CREATE OR REPLACE FUNCTION test_contention() RETURNS trigger AS $$
BEGIN
  IF NEW.order_ref LIKE 'ALWAYS-%' THEN
    RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';
  END IF;
  IF NEW.order_ref LIKE 'ONCE-%' AND nextval('test_contention_once') = 1 THEN
    RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_contention BEFORE INSERT ON blacklist_flag FOR EACH ROW EXECUTE FUNCTION test_contention();
"""


@pytest.fixture
def contention(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(TRIGGER)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_contention ON blacklist_flag")
        cursor.execute("DROP FUNCTION IF EXISTS test_contention()")
        cursor.execute("DROP SEQUENCE IF EXISTS test_contention_once")


def item(ref):
    return {"buyer": {"email": f"{ref.lower()}@example.com"}, "reason": "refund_abuse", "order_ref": ref}


def test_a_batch_item_that_keeps_failing_answers_its_own_503_and_the_rest_go_through(contention, seller_a):
    response = seller_a.post("/api/v1/flags/batch", {"flags": [item("OK-1"), item("ALWAYS-1"), item("ONCE-1")]})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 503, 201]
    assert results[1]["error"]["code"] == "temporarily_unavailable"
    assert "id" not in results[1]
    assert set(Flag.objects.values_list("order_ref", flat=True)) == {"OK-1", "ONCE-1"}  # ONCE-1 was retried


def test_a_single_submission_that_keeps_failing_is_a_retryable_503(contention, seller_a):
    response = seller_a.post("/api/v1/flags", item("ALWAYS-2"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "temporarily_unavailable"
    assert response["Retry-After"] == "1"
    assert seller_a.post("/api/v1/flags", item("ONCE-2")).status_code == 201
