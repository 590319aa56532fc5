"""riskhub.db.fetchall: the decision read's statement runner (libpq directly, binary rows)
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
        pytest.skip("the libpq runner is PostgreSQL's")
    with pytest.raises(ProgrammingError):
        fetchall("SELECT no_such_column FROM identity_buyer", [])


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_a_dead_connection_is_replaced_by_retried(transactional_db):
    assert fetchall("SELECT 1", []) == [(1,)]  # the runner exists now
    pid = fetchall("SELECT pg_backend_pid()", [])[0][0]
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert retried(lambda: fetchall("SELECT 2", [])) == [(2,)]
    assert fetchall("SELECT pg_backend_pid()", [])[0][0] != pid


def _prepared_here():
    """The statements riskhub.libpq prepared on this connection (read through Django's cursor)."""
    return [
        row[0] for row in _django_rows("SELECT statement FROM pg_prepared_statements WHERE name LIKE %s", ["riskhub_%"])
    ]


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_outside_a_transaction_each_statement_is_prepared_once_and_reused(transactional_db):
    sql = "SELECT %s + 1, 'prepared once'"
    assert [fetchall(sql, [n]) for n in (1, 2, 3)] == [
        [(2, "prepared once")],
        [(3, "prepared once")],
        [(4, "prepared once")],
    ]
    assert [s for s in _prepared_here() if "prepared once" in s] == ["SELECT $1 + 1, 'prepared once'"]
    # Another parameter type is another statement: 2**40 does not fit the first one's smallint.
    assert fetchall(sql, [2**40]) == [(2**40 + 1, "prepared once")]
    assert len([s for s in _prepared_here() if "prepared once" in s]) == 2


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_a_statement_the_session_lost_is_prepared_again(transactional_db):
    sql = "SELECT %s, 'lost and found'"
    assert fetchall(sql, ["a"]) == [("a", "lost and found")]
    # psycopg sends this after every ROLLBACK on a connection where it prepared statements itself.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert not _prepared_here()
    assert fetchall(sql, ["b"]) == [("b", "lost and found")]
    assert any("lost and found" in s for s in _prepared_here())


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_in_a_transaction_and_behind_pgbouncer_nothing_is_prepared(transactional_db):
    from django.db import transaction

    with transaction.atomic():
        assert fetchall("SELECT %s, 'in a transaction'", [1]) == [(1, "in a transaction")]  # psycopg's BEGIN
        assert fetchall("SELECT %s, 'in a transaction, begun'", [2]) == [(2, "in a transaction, begun")]
    threshold, connection.connection.prepare_threshold = connection.connection.prepare_threshold, None
    try:  # prepare_threshold=None: what settings.DB_PGBOUNCER sets
        assert fetchall("SELECT %s, 'behind pgbouncer'", [3]) == [(3, "behind pgbouncer")]
    finally:
        connection.connection.prepare_threshold = threshold
    assert not [s for s in _prepared_here() if "transaction" in s or "pgbouncer" in s]


def test_only_s_placeholders_are_taken():
    from riskhub.libpq import _numbered

    assert _numbered("SELECT %s, %s") == b"SELECT $1, $2"
    with pytest.raises(ValueError):
        _numbered("SELECT %(name)s")


@pytest.mark.skipif(not REAL_STACK, reason="needs PostgreSQL")
def test_a_prepared_statement_is_planned_once_whatever_its_values(transactional_db):
    """plan_cache_mode=force_generic_plan (settings.DB_PLAN_CACHE_MODE): PostgreSQL's own choice
    plans a statement afresh at each of its first five executions, and for good whenever those
    plans looked cheaper than the generic one (a bench worker did so for the decision read)."""
    assert _django_rows("SHOW plan_cache_mode", []) == [("force_generic_plan",)]
    sql = "SELECT count(*) FROM identity_buyer WHERE id = %s AND 'planned once' <> ''"
    for n in range(12):
        fetchall(sql, [n])
    [(custom, generic)] = _django_rows(
        "SELECT custom_plans, generic_plans FROM pg_prepared_statements WHERE statement LIKE %s", ["%planned once%"]
    )
    assert (custom, generic) == (0, 12)
