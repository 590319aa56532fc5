"""riskhub behind PgBouncer in transaction mode: real pgbouncer, gunicorn and Celery processes.

In transaction mode, each transaction of a client may run on another server connection. What a
client leaves in a server session is therefore lost or, worse, found by another client: prepared
statements are the known trap (psycopg names them _pg3_0, _pg3_1… per client connection).
DB_PGBOUNCER=true turns them off, and WITH HOLD server-side cursors with them (riskhub/settings.py).
The graph lock is pg_advisory_xact_lock(_shared): transaction-scoped, so it is safe here.
"""

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from blacklist.services.keys import seller_create
from identity.models import Buyer
from scoring.models import BuyerScore
from tests import scale_stack, stack
from tests.conftest import real_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

SAME_QUERY = "SELECT %s::int + 1"
WEB_WORKERS = 2


@pytest.fixture(scope="module")
def pgbouncer_installed():
    if scale_stack.pgbouncer_binary() is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("pgbouncer is required in CI (.ci/run installs it)")
        pytest.skip("pgbouncer is not installed (apt-get install -y pgbouncer)")


@pytest.fixture
def one_server_bouncer(pgbouncer_installed, django_db_setup):
    """Transaction pooling over a single server connection: every client shares it."""
    bouncer = scale_stack.PgBouncer(pool_size=1)
    yield bouncer
    bouncer.stop()


def run_interleaved(url, prepare_threshold, rounds=3):
    """Two clients run the same query in turns, each query its own transaction (autocommit)."""
    with (
        psycopg.connect(url, autocommit=True, prepare_threshold=prepare_threshold) as first,
        psycopg.connect(url, autocommit=True, prepare_threshold=prepare_threshold) as second,
    ):
        return [client.execute(SAME_QUERY, [n]).fetchone()[0] for n in range(rounds) for client in (first, second)]


def test_the_trap_prepared_statements_break_behind_transaction_pooling(one_server_bouncer):
    # Both clients prepare their first statement as _pg3_0 — on the one server session they share.
    with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
        run_interleaved(one_server_bouncer.url, prepare_threshold=0)


def test_with_db_pgbouncer_s_setting_the_same_traffic_works(one_server_bouncer):
    # prepare_threshold=None is what DB_PGBOUNCER=true sets (tests/unit/test_scaling_settings.py).
    assert run_interleaved(one_server_bouncer.url, prepare_threshold=None) == [1, 1, 2, 2, 3, 3]


def http(url, path, body, key):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_flags_and_decisions_through_pgbouncer_in_transaction_mode(pgbouncer_installed, celery_worker, live_reasons):
    """gunicorn and a Celery worker talk to PostgreSQL only through PgBouncer (3 server connections
    for every client); the replica alias goes through it too. Flags in, scores out, decisions
    answered concurrently, not one error."""
    bouncer = scale_stack.PgBouncer(pool_size=3, aliases=["riskhub_primary", "riskhub_replica"])
    through = {
        "DATABASE_URL": bouncer.url_of("riskhub_primary"),
        "DATABASE_REPLICA_URL": bouncer.url_of("riskhub_replica"),
        "DB_PGBOUNCER": "true",
    }
    celery_worker.stop()  # the session worker talks to PostgreSQL directly: this one must do the work
    web = worker = None
    try:
        web = stack.start_gunicorn(workers=WEB_WORKERS, **through)
        worker = scale_stack.start_worker("bounced", **through)
        keys = [seller_create(name=f"Bouncer seller {n}")[1] for n in range(3)]
        buyers = [{"email": f"bounced.{n}@example.com", "phone": f"+491515555{n:04d}"} for n in range(40)]
        for n, key in enumerate(keys):
            flags = [
                {"buyer": buyer, "reason": "extortion" if n else "refund_abuse", "order_ref": f"S{n}-{i}"}
                for i, buyer in enumerate(buyers)
            ]
            status, body = http(web.url, "/api/v1/flags/batch", {"flags": flags}, key)
            assert status == 200, body
            assert {r["status"] for r in body["results"]} == {201}, body
        status, body = http(
            web.url, "/api/v1/flags", {"buyer": buyers[0], "reason": "other", "order_ref": "X"}, keys[0]
        )
        assert status == 201, body

        stack.wait_for(
            lambda: (
                not Buyer.objects.filter(needs_score_since__isnull=False).exists()
                and BuyerScore.objects.filter(reporting_sellers=3).count() == len(buyers)
            ),
            timeout=90,
            message="every buyer scored through PgBouncer",
        )

        def ask(n):
            return http(web.url, "/api/v1/decisions", {"buyer": {"email": buyers[n % len(buyers)]["email"]}}, keys[0])

        before = bouncer.queries()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, range(200)))
        after = bouncer.queries()
        assert [status for status, _ in answers] == [200] * 200, [a for a in answers if a[0] != 200][:3]
        assert {body["reporting_sellers"] for _, body in answers} == {3}
        assert all(body["own_flags"] for _, body in answers)  # read on the primary, through PgBouncer
        # Each decision read its scores on the replica alias (one statement) and the rest on the
        # primary; each web worker's replica connection may first run one set-up statement (the
        # time zone) when it opens.
        assert 200 <= after["riskhub_replica"] - before.get("riskhub_replica", 0) <= 200 + WEB_WORKERS
        assert after["riskhub_primary"] - before["riskhub_primary"] >= 200
        stack.wait_worker_idle(worker)
        for process in (web, worker):
            assert "prepared statement" not in process.log_path.read_text(errors="replace")
    finally:
        for process in (worker, web):
            if process is not None:
                process.stop()
        bouncer.stop()
        celery_worker.start()
