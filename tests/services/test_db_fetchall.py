"""riskhub.db.fetchall: the decision read's statement runner (a kept psycopg cursor, binary rows)
answers exactly what Django's cursor answers, raises Django's errors, and survives a dead
connection through `retried` like any other query."""

import json

import psycopg
import pytest
from django.conf import settings
from django.db import ProgrammingError, connection
from django.test.utils import CaptureQueriesContext

from riskhub.db import fetchall, retried
from tests.stack import REAL_STACK

SAMPLE = """
SELECT 's' AS tag, CAST(7 AS SMALLINT), CAST(2 AS BIGINT), CAST(%s AS TEXT),
       CAST('{"refund_abuse": {"sellers": 2, "risk": 0.5}}' AS JSONB), NOW(), CAST(NULL AS INTEGER), TRUE
"""


def _django_rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db
def test_it_answers_what_djangos_cursor_answers():
    if connection.vendor != "postgresql":
        assert fetchall("SELECT 1, %s", ["x"]) == [(1, "x")]
        return
    [fast] = fetchall(SAMPLE, ["ü"])
    [slow] = _django_rows(SAMPLE, ["ü"])
    assert fast[:4] == slow[:4] and fast[6:] == slow[6:]
    assert [type(v) for v in fast[:4] + fast[5:]] == [type(v) for v in slow[:4] + slow[5:]]
    assert fast[5].utcoffset() is not None and abs((fast[5] - slow[5]).total_seconds()) < 5
    assert fast[4] == json.loads(slow[4]) == {"refund_abuse": {"sellers": 2, "risk": 0.5}}  # JSON decoded


@pytest.mark.django_db
def test_query_counters_still_see_its_statements():
    with CaptureQueriesContext(connection) as queries:
        assert fetchall("SELECT %s + 1", [1]) == [(2,)]
    assert len(queries) == 1


@pytest.mark.django_db
def test_a_bad_statement_raises_djangos_error():
    if connection.vendor != "postgresql":
        pytest.skip("the kept cursor is PostgreSQL's")
    with pytest.raises(ProgrammingError):
        fetchall("SELECT no_such_column FROM identity_buyer", [])


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_a_dead_connection_is_replaced_by_retried(transactional_db):
    assert fetchall("SELECT 1", []) == [(1,)]  # the kept cursor exists now
    pid = fetchall("SELECT pg_backend_pid()", [])[0][0]
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert retried(lambda: fetchall("SELECT 2", [])) == [(2,)]
    assert fetchall("SELECT pg_backend_pid()", [])[0][0] != pid
