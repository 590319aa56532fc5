"""Run the test suite against the real services when they answer.

PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) default to this machine's services. When one
does not answer, say so loudly and run on SQLite / in-process tasks, skipping the tests that
need the real stack — except with CI=true, where a missing service is an error.
"""

import os
import sys

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def postgres_ok(url):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        dsn = url.replace("postgresql://", "postgres://", 1).replace("postgres://", "postgresql://", 1)
        # Ask the server, not the named database: pytest-django creates test_<name> itself.
        params = conninfo_to_dict(dsn)
        params["dbname"] = "postgres"
        with psycopg.connect(make_conninfo(**params), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True, ""
    except Exception as exc:
        return False, f"{exc.__class__.__name__}: {str(exc).strip()[:200]}"


def redis_ok(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return True, ""
    except Exception as exc:
        return False, f"{exc.__class__.__name__}: {exc}"


def banner(lines):
    width = max(len(line) for line in lines) + 4
    print("!" * width, file=sys.stderr)
    for line in lines:
        print(f"! {line.ljust(width - 4)} !", file=sys.stderr)
    print("!" * width, file=sys.stderr)


def main(argv):
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    pg, pg_err = postgres_ok(database_url)
    rd, rd_err = redis_ok(redis_url)
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "test-secret-key")
    env.setdefault("IDENTIFIER_KEY", "test-identifier-key")
    env.setdefault("DEBUG", "false")
    env.setdefault("ALLOWED_HOSTS", "*")
    if pg and rd:
        env["DATABASE_URL"], env["REDIS_URL"] = database_url, redis_url
        env["RISKHUB_REAL_STACK"] = "1"
        print(f"riskhub tests: real stack — PostgreSQL and Redis ({redis_url}) answer.", file=sys.stderr)
    else:
        missing = [f"PostgreSQL ({pg_err})" for _ in [0] if not pg] + [f"Redis ({rd_err})" for _ in [0] if not rd]
        lines = ["riskhub tests: services NOT reachable:"] + [f"  - {m}" for m in missing]
        if ci:
            banner(lines + ["CI=true: the real stack is required. Failing."])
            return 2
        banner(
            lines
            + [
                "Running on SQLite with in-process tasks; integration tests that need",
                "PostgreSQL, Redis and a Celery worker are SKIPPED. Start the services",
                "(or set DATABASE_URL / REDIS_URL) for the full suite.",
            ]
        )
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env["RISKHUB_REAL_STACK"] = "0"
    pytest = os.path.join(os.path.dirname(sys.executable), "pytest")
    os.execve(pytest, [pytest, *argv], env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
