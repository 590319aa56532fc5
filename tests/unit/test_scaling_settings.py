"""Settings for running past one machine: DB_PGBOUNCER, DATABASE_REPLICA_URL (riskhub/settings.py).

Each case imports the settings in a fresh interpreter with its own environment, as a process
would start.
"""

import json
import os
import subprocess
import sys

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from riskhub.routers import REPLICA, lagging_alias
from scoring.models import BuyerScore
from tests.stack import ROOT

PG = "postgresql://riskhub@db.invalid:5432/riskhub"
REPLICA_PG = "postgresql://riskhub@replica.invalid:5432/riskhub"
PRINT = "import json, riskhub.settings as s; print(json.dumps(s.DATABASES, default=str))"


def databases(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_"))}
    base.update(DEBUG="true", **env)
    done = subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=base, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def test_by_default_postgresql_prepares_hot_statements_and_uses_server_side_cursors():
    default = databases(DATABASE_URL=PG)["default"]
    assert default["OPTIONS"]["prepare_threshold"] == 5
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_behind_pgbouncer_nothing_is_prepared_and_no_server_side_cursor_is_opened():
    default = databases(DATABASE_URL=PG, DB_PGBOUNCER="true")["default"]
    assert default["OPTIONS"]["prepare_threshold"] is None  # psycopg: never prepare
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "options" not in default["OPTIONS"]  # PgBouncer refuses startup options; nothing to plan


def test_prepared_statements_are_planned_once_unless_told_otherwise():
    """plan_cache_mode goes in the connection's startup options (no round trip), after any the
    URL gives; "auto" leaves PostgreSQL's own choice."""
    assert databases(DATABASE_URL=PG)["default"]["OPTIONS"]["options"] == "-c plan_cache_mode=force_generic_plan"
    given = databases(DATABASE_URL=PG + "?options=-c%20statement_timeout%3D5000")["default"]["OPTIONS"]
    assert given["options"] == "-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan"
    assert "options" not in databases(DATABASE_URL=PG, DB_PLAN_CACHE_MODE="auto")["default"]["OPTIONS"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": PG, "DB_PGBOUNCER": "true", "DB_PREPARE_THRESHOLD": "5"}, "DB_PREPARE_THRESHOLD"),
        ({"DB_PGBOUNCER": "true"}, "needs a PostgreSQL"),  # SQLite
        ({"DATABASE_URL": PG, "DB_PGBOUNCER": "sometimes"}, "DB_PGBOUNCER must be a boolean"),
        ({"DATABASE_URL": PG, "DB_PLAN_CACHE_MODE": "generic"}, "DB_PLAN_CACHE_MODE must be"),
        ({"DATABASE_REPLICA_URL": REPLICA_PG}, "same database engine"),  # SQLite primary
    ],
)
def test_it_refuses_to_start_on_contradictory_database_settings(env, message):
    with pytest.raises(RuntimeError, match=message):
        databases(**env)


def test_a_replica_url_adds_a_replica_alias_with_the_same_options_mirrored_in_tests():
    found = databases(DATABASE_URL=PG, DATABASE_REPLICA_URL=REPLICA_PG, DB_PGBOUNCER="true")
    assert set(found) == {"default", "replica"}
    assert found["replica"]["HOST"] == "replica.invalid"
    assert found["replica"]["OPTIONS"] == found["default"]["OPTIONS"]
    assert found["replica"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert found["replica"]["TEST"] == {"MIRROR": "default"}
    # No per-request check: a dead primary connection is retried (riskhub.db), a failed replica read
    # falls back to the primary (riskhub.routers).
    assert (found["default"]["CONN_HEALTH_CHECKS"], found["replica"]["CONN_HEALTH_CHECKS"]) == (False, False)


def test_without_a_replica_every_read_stays_on_the_primary():
    assert set(databases(DATABASE_URL=PG)) == {"default"}
    assert REPLICA not in connections.settings
    assert lagging_alias(BuyerScore) == DEFAULT_DB_ALIAS
