"""Decisions read scores from a replica; the asking seller's own flags and policy from the primary.

The `replica` alias is a second connection to the test database (a mirror, as
`DATABASE_REPLICA_URL` would configure it: riskhub.settings.replica_database_from_url), added for these
tests only, so every other test keeps the one-statement, primary-only decision read. A lagging
replica is a connection held in a REPEATABLE READ snapshot taken before the writes: a streaming
replica, too, answers from a consistent snapshot of the primary's past.
"""

import logging
import urllib.parse
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test.utils import CaptureQueriesContext

from riskhub import settings as project_settings
from riskhub.celery import app
from riskhub.routers import REPLICA, lagging_alias
from scoring import selectors
from scoring.models import BuyerScore
from tests import stack
from tests.conftest import ids, make_persona, real_stack, rescore

pytestmark = [
    pytest.mark.integration,
    real_stack,
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA]),
]

EMAIL = "replica.buyer@example.com"


def with_port(url, port):
    """`url` with its host's port replaced (nothing listens on a fresh free port)."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}{at}{parts.hostname}:{port}"))


def add_replica_alias(url):
    config = project_settings.replica_database_from_url(url)  # as DATABASE_REPLICA_URL would
    # The defaults Django fills in for every alias (AUTOCOMMIT, TIME_ZONE, TEST…), as at start-up.
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: {}, REPLICA: config})
    connections.settings[REPLICA] = configured[REPLICA]


def drop_replica_alias():
    if REPLICA in connections.settings:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """The `replica` alias on the test database, for this module only. It must exist before a
    test's database fixture starts (Django checks a test's `databases` against the aliases)."""
    if not stack.REAL_STACK:
        pytest.skip("needs PostgreSQL")
    add_replica_alias(stack.test_database_url())
    yield
    drop_replica_alias()


@pytest.fixture(autouse=True)
def scores_in_process():
    """Score tasks run in this process as each flag commits (Celery's eager mode, as in `make run`):
    these tests commit their writes, and a worker still scoring them would hold locks on the
    tables the test's teardown truncates. The scores are what rescore() computes anyway."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@contextmanager
def replica_at(url):
    """The replica alias pointed at `url` for a while."""
    drop_replica_alias()
    add_replica_alias(url)
    try:
        yield
    finally:
        drop_replica_alias()
        add_replica_alias(stack.test_database_url())


@pytest.fixture
def replica(live_reasons):
    """The replica connection, in a test whose writes are committed (a replica sees nothing else)."""
    return connections[REPLICA]


def flag(persona, buyer, reason="extortion", ref="R-1"):
    response = persona.post("/api/v1/flags", {"buyer": buyer, "reason": reason, "order_ref": ref})
    assert response.status_code == 201, response.json()
    return response.json()


def decide(persona, buyer):
    response = persona.post("/api/v1/decisions", {"buyer": buyer})
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_router_sends_only_reads_that_may_lag_to_the_replica(replica):
    assert lagging_alias(BuyerScore) == REPLICA
    assert router.db_for_read(BuyerScore) == DEFAULT_DB_ALIAS  # an ordinary ORM read
    assert router.db_for_write(BuyerScore) == DEFAULT_DB_ALIAS
    assert not router.allow_migrate(REPLICA, "scoring")
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "scoring")


def test_with_a_replica_scores_come_from_it_and_own_flags_from_the_primary(replica):
    seller_a, seller_b = make_persona("Replica A"), make_persona("Replica B")
    flag(seller_a, {"email": EMAIL}, ref="A-1")
    flag(seller_b, {"email": EMAIL}, reason="card_fraud", ref="B-1")
    rescore()
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        answer = decide(seller_a, {"email": EMAIL})
    assert answer["reporting_sellers"] == 2
    assert [f["order_ref"] for f in answer["own_flags"]] == ["A-1"]
    replica_sql = [q["sql"] for q in on_replica.captured_queries]
    assert len(replica_sql) == 1 and "scoring_buyerscore" in replica_sql[0]
    assert "blacklist_flag" not in replica_sql[0] and "scoring_sellerpolicy" not in replica_sql[0]
    primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "blacklist_flag" in primary_sql and "scoring_sellerpolicy" in primary_sql
    assert "scoring_buyerscore" not in primary_sql


def test_a_lagging_replica_makes_a_score_older_never_hides_the_seller_s_own_flag(replica):
    seller_a, seller_b = make_persona("Lag A"), make_persona("Lag B")
    flag(seller_b, {"email": EMAIL}, reason="card_fraud", ref="B-1")
    rescore()
    with transaction.atomic(using=REPLICA):
        with replica.cursor() as cursor:  # the replica stops replaying here
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT count(*) FROM scoring_buyerscore")
        flag(seller_a, {"email": EMAIL}, ref="A-1")
        rescore()
        assert BuyerScore.objects.get().reporting_sellers == 2  # the primary has the new score
        lagging = decide(seller_a, {"email": EMAIL})
        assert lagging["reporting_sellers"] == 1  # the replica's older score...
        assert [f["order_ref"] for f in lagging["own_flags"]] == ["A-1"]  # ...and the live own flag
        assert lagging["decision"] == "no_ship"  # the own-flag block applies at once
    caught_up = decide(seller_a, {"email": EMAIL})
    assert caught_up["reporting_sellers"] == 2
    assert [f["order_ref"] for f in caught_up["own_flags"]] == ["A-1"]


def test_a_replica_that_cannot_answer_costs_the_replica_not_the_decision(live_reasons, caplog):
    seller_a, seller_b = make_persona("Down A"), make_persona("Down B")
    flag(seller_b, {"email": EMAIL}, reason="card_fraud", ref="B-1")
    rescore()
    nothing_there = with_port(stack.test_database_url(), stack.free_port()) + "?connect_timeout=2"
    with replica_at(nothing_there), caplog.at_level(logging.WARNING, logger="riskhub.routers"):
        answers = [decide(seller_a, {"email": EMAIL}) for _ in range(3)]
    assert [answer["reporting_sellers"] for answer in answers] == [1, 1, 1]
    # The first decision tried the replica; the next ones, within DATABASE_REPLICA_RETRY_SECONDS,
    # went straight to the primary.
    assert caplog.text.count("replica read failed") == 1


def test_after_its_rest_the_replica_is_tried_again(live_reasons, caplog, settings):
    settings.DATABASE_REPLICA_RETRY_SECONDS = 0
    seller_a, seller_b = make_persona("Retry A"), make_persona("Retry B")
    flag(seller_b, {"email": EMAIL}, reason="card_fraud", ref="B-1")
    rescore()
    nothing_there = with_port(stack.test_database_url(), stack.free_port()) + "?connect_timeout=2"
    with replica_at(nothing_there), caplog.at_level(logging.WARNING, logger="riskhub.routers"):
        answers = [decide(seller_a, {"email": EMAIL}) for _ in range(2)]
    assert [answer["reporting_sellers"] for answer in answers] == [1, 1]
    assert caplog.text.count("replica read failed") == 2


def test_the_two_halves_return_exactly_the_rows_of_the_one_statement(replica):
    """_OWN_SQL (primary) + _SCORES_SQL (replica) = _DECISION_SQL, row for row, over several buyers."""
    seller_a, seller_b = make_persona("Halves A"), make_persona("Halves B")
    flag(seller_a, {"email": EMAIL}, ref="A-1")
    flag(seller_a, {"phone": "+4915155556666"}, reason="card_fraud", ref="A-2")
    flag(seller_b, {"phone": "+4915155556666"}, ref="B-1")
    rescore()
    digests = [i.digest for i in ids(email=EMAIL, phone="+4915155556666")]
    marks = {"digests": ", ".join(["%s"] * len(digests)), "counting": ", ".join(["%s"] * len(selectors._COUNTING))}
    params = [*digests, seller_a.seller.pk, seller_a.seller.pk, *selectors._COUNTING]

    def rows(alias, sql, values):
        with connections[alias].cursor() as cursor:
            cursor.execute(sql.format(**marks), values)
            return cursor.fetchall()

    whole = rows(DEFAULT_DB_ALIAS, selectors._DECISION_SQL, params)
    halves = rows(DEFAULT_DB_ALIAS, selectors._OWN_SQL, params) + rows(REPLICA, selectors._SCORES_SQL, digests)
    assert sorted(halves, key=repr) == sorted(whole, key=repr)
    assert sorted(row[0] for row in whole) == ["f", "f", "p", "s", "s"]  # 2 own flags, the policy, 2 buyers
