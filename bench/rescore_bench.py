"""Rescore benchmark: 1,000,000 flags over 200,000 buyers, full rescore by the Celery workers,
then a link change (10,000 buyer pairs joined by corroborated links, then split again).

1. A fresh PostgreSQL database (riskhub_bench_rescore, migrated) and Redis DB 13 (flushed).
2. Sellers, buyers and flags inserted set-based in SQL (generate_series): the load is not what
   is measured. Flags are spread over three years, across all reasons, mostly active.
3. `celery -A riskhub worker` (prefork, --concurrency, default 2 = the machine's cores).
4. `manage.py rescore --all` — marks every scored buyer, enqueues chunked tasks, waits until
   every mark is cleared — timed end to end: the full-rescore wall time.
5. Peak memory: the high-water mark (VmHWM) of every worker process, read from /proc.
6. A link change: two sellers name 10,000 pairs of buyers' emails together (every link
   corroborated), `rescore --seller` relinks and rescores them; then the flags are retracted
   and the pairs split again. Both are timed.
7. Prints a table and writes bench/results/rescore.json. Targets: ≤ 60 s per million flags, ≤ 500 MB per worker.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
DATABASE_NAME = "riskhub_bench_rescore"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE_NAME}"
MAINTENANCE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET_SECONDS_PER_MILLION = 60  # linear: the target grows with the flags, never faster
TARGET_MB = 500


def env():
    e = dict(os.environ)
    e.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY="bench-secret",
        IDENTIFIER_KEY="bench-identifier-key",
        DEBUG="false",
        ALLOWED_HOSTS="*",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return e


def manage(*args, check=True, capture=False):
    return subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env(), check=check, capture_output=capture, text=True
    )


def fresh_database():
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    manage("migrate", "--noinput", "-v0")


LOAD_SQL = """
INSERT INTO blacklist_seller (name, contact_email, is_active, created_at, trust, trust_details)
SELECT 'Bench seller ' || g, '', true, now() - (g % 700) * interval '1 day',
       0.5 + (g % 6) / 10.0, '{{}}'::jsonb
FROM generate_series(1, {sellers}) g;

-- One email identifier per buyer (a digest-shaped text: the bench never needs the raw value).
INSERT INTO identity_buyer (created_at)
SELECT now() FROM generate_series(1, {buyers});
INSERT INTO identity_identifier (digest, kind, buyer_id, is_hub, created_at)
SELECT md5('email:' || g) || md5('bench:' || g), 'email', (SELECT min(id) FROM identity_buyer) + g - 1, false, now()
FROM generate_series(1, {buyers}) g;

-- Each buyer gets flags from distinct sellers; reasons cycle with a skew towards refund abuse.
INSERT INTO blacklist_flag (id, seller_id, buyer_key, reason_id, order_ref, note, occurred_at, created_at, status,
                            status_changed_at)
SELECT gen_random_uuid(),
       (SELECT min(id) FROM blacklist_seller) + ((g * 7919) % {sellers}),
       md5('key:' || (g % {buyers})) || md5('bench:' || (g % {buyers})),
       (ARRAY['refund_abuse','refund_abuse','extortion','non_payment','unpaid_order','card_fraud',
              'malicious_feedback','false_quality_dispute','remote_address','cod_refusal','other'])[1 + (g * 31) % 11],
       'B-' || g, '',
       now() - ((g * 104729) % (3 * 365 * 24)) * interval '1 hour',
       now(),
       -- ~5 % retracted, ~2 % disputed, scattered so that almost every buyer keeps a counting flag
       CASE WHEN (g * 2654435761) % 97 < 5 THEN 'retracted'
            WHEN (g * 2654435761) % 97 < 7 THEN 'disputed' ELSE 'active' END,
       now()
FROM generate_series(1::bigint, {flags}::bigint) g;

-- Flag B-g names buyer (g mod buyers)'s email.
INSERT INTO blacklist_flagidentifier (flag_id, identifier_id, asserts_link)
SELECT f.id, (SELECT min(id) FROM identity_identifier) + (substr(f.order_ref, 3)::bigint % {buyers}), false
FROM blacklist_flag f;
ANALYZE;
"""

# A link change: two new sellers each name the emails of buyers 2i and 2i+1 together, for
# {pairs} pairs — every such link is corroborated, so the relink joins each pair into one buyer.
LINK_SQL = """
INSERT INTO blacklist_seller (name, contact_email, is_active, created_at, trust, trust_details)
SELECT 'Linker ' || g, '', true, now(), 0.8, '{{}}'::jsonb FROM generate_series(1, 2) g;

INSERT INTO blacklist_flag (id, seller_id, buyer_key, reason_id, order_ref, note, occurred_at, created_at, status,
                            status_changed_at)
SELECT gen_random_uuid(), s.id, md5('pair:' || p), 'extortion', 'L-' || p, '', now(), now(), 'active', now()
FROM generate_series(0, {pairs} - 1) p CROSS JOIN (SELECT id FROM blacklist_seller WHERE name LIKE 'Linker %') s;

INSERT INTO blacklist_flagidentifier (flag_id, identifier_id, asserts_link)
SELECT f.id, (SELECT min(id) FROM identity_identifier) + 2 * substr(f.order_ref, 3)::bigint + e.side, true
FROM blacklist_flag f CROSS JOIN (VALUES (0), (1)) AS e(side)
WHERE f.order_ref LIKE 'L-%';
"""


def run_sql(template, **values):
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        for statement in template.format(**values).split(";\n"):
            if statement.strip():
                conn.execute(statement)


def load(sellers, buyers, flags):
    run_sql(LOAD_SQL, sellers=sellers, buyers=buyers, flags=flags)


def buyer_count():
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute("SELECT count(*) FROM identity_buyer").fetchone()[0]


def linker_ids():
    with psycopg.connect(DATABASE_URL) as conn:
        return [str(r[0]) for r in conn.execute("SELECT id FROM blacklist_seller WHERE name LIKE 'Linker %'")]


def link_change(pairs, chunk):
    """Join `pairs` pairs of buyers through corroborated links, then withdraw the evidence.

    Each step is a `manage.py rescore --seller <linkers>`: it marks the buyers the linkers'
    flags name and waits while the workers relink and rescore them. Returns the figures."""
    before = buyer_count()
    run_sql(LINK_SQL, pairs=pairs)
    sellers = [arg for pk in linker_ids() for arg in ("--seller", pk)]
    started = time.monotonic()
    manage("rescore", *sellers, "--chunk", str(chunk), capture=True)
    join_seconds = time.monotonic() - started
    joined = buyer_count()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("UPDATE blacklist_flag SET status = 'retracted' WHERE order_ref LIKE 'L-%'")
    started = time.monotonic()
    manage("rescore", *sellers, "--chunk", str(chunk), capture=True)
    split_seconds = time.monotonic() - started
    return {
        "pairs": pairs,
        "buyers_before": before,
        "buyers_after_join": joined,
        "buyers_after_split": buyer_count(),
        "join_seconds": round(join_seconds, 1),
        "split_seconds": round(split_seconds, 1),
    }


def worker_pids(parent):
    """The celery main process and its pool children."""
    pids = [parent.pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent.pid:
            pids.append(int(stat.parent.name))
    return pids


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main():
    # SIGTERM (CI timeouts, kill) unwinds like Ctrl-C, so the finally below stops the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=200_000)
    parser.add_argument("--flags", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--link-pairs", type=int, default=10_000, help="buyer pairs joined, then split again")
    args = parser.parse_args()

    print(f"rescore bench: fresh database, loading {args.flags:,} flags over {args.buyers:,} buyers…", flush=True)
    fresh_database()
    started = time.monotonic()
    load(args.sellers, args.buyers, args.flags)
    load_seconds = time.monotonic() - started
    print(f"  loaded in {load_seconds:.1f} s", flush=True)

    log = open(ROOT / "var" / "bench-rescore-worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "riskhub",
            "worker",
            f"--concurrency={args.concurrency}",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "bench-rescore@localhost",
        ],
        cwd=ROOT,
        env=env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(4)
        if worker.poll() is not None:
            raise SystemExit("celery worker exited early; see var/bench-rescore-worker.log")
        started = time.monotonic()
        result = manage("rescore", "--all", "--chunk", str(args.chunk), capture=True)
        wall = time.monotonic() - started
        rescored = int(result.stdout.strip().splitlines()[-1])
        peaks = {pid: peak_rss_mb(pid) for pid in worker_pids(worker)}
        with psycopg.connect(DATABASE_URL) as conn:
            scored = conn.execute("SELECT count(*) FROM scoring_buyerscore").fetchone()[0]
        links = link_change(args.link_pairs, args.chunk)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()

    with psycopg.connect(DATABASE_URL) as conn:
        flags = conn.execute("SELECT count(*) FROM blacklist_flag WHERE order_ref LIKE 'B-%'").fetchone()[0]
        expected = conn.execute(
            "SELECT count(DISTINCT i.buyer_id) FROM blacklist_flag f "
            "JOIN blacklist_flagidentifier fi ON fi.flag_id = f.id "
            "JOIN identity_identifier i ON i.id = fi.identifier_id "
            "WHERE f.status IN ('active', 'disputed', 'upheld') AND f.order_ref LIKE 'B-%'"
        ).fetchone()[0]
    peak = max(peaks.values())
    target_seconds = TARGET_SECONDS_PER_MILLION * max(flags, 1_000_000) / 1_000_000
    figures = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "flags": flags,
        "buyers_rescored": rescored,
        "score_rows": scored,
        "buyers_with_counting_flags": expected,
        "worker_concurrency": args.concurrency,
        "chunk": args.chunk,
        "load_seconds": round(load_seconds, 1),
        "rescore_wall_seconds": round(wall, 1),
        "buyers_per_second": round(rescored / wall) if wall else None,
        "peak_worker_rss_mb": round(peak, 1),
        "worker_processes_rss_mb": {str(k): round(v, 1) for k, v in peaks.items()},
        "link_change": links,
        "seconds_per_million_flags": round(wall * 1_000_000 / flags, 1) if flags else None,
        "targets": {"rescore_wall_seconds": target_seconds, "peak_worker_rss_mb": TARGET_MB},
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "rescore.json").write_text(json.dumps(figures, indent=2))
    ok_time, ok_mem = wall <= target_seconds, peak <= TARGET_MB
    print()
    print(f"  flags                      {flags:>12,}")
    print(f"  buyers rescored            {rescored:>12,}")
    print(
        f"  full rescore wall time     {wall:>10.1f} s   "
        f"(target ≤ {target_seconds:.0f} s: {'ok' if ok_time else 'MISSED'})"
    )
    print(f"  peak worker memory (RSS)   {peak:>10.1f} MB  (target ≤ {TARGET_MB} MB: {'ok' if ok_mem else 'MISSED'})")
    print(f"  workers                    {args.concurrency:>12}  (chunk {args.chunk} buyers per task)")
    print(
        f"  buyers with counting flags {expected:>12,}  (every one rescored: {'ok' if rescored == expected else 'NO'})"
    )
    ok_links = (
        links["buyers_after_join"]
        == links["buyers_before"] - links["pairs"]
        == links["buyers_after_split"] - links["pairs"]
    )
    print(
        f"  link change: {links['pairs']:,} pairs joined in {links['join_seconds']} s, split again in "
        f"{links['split_seconds']} s (buyers {links['buyers_before']:,} → {links['buyers_after_join']:,} → "
        f"{links['buyers_after_split']:,}: {'ok' if ok_links else 'WRONG'})"
    )
    return 0 if (ok_time and ok_mem and ok_links and rescored == expected == scored) else 1


if __name__ == "__main__":
    sys.exit(main())
