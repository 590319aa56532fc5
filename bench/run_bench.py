"""`make bench`: riskhub's production processes under load, on this machine.

1. A fresh PostgreSQL database (riskhub_bench, dropped and migrated) and Redis DB 14 (flushed).
2. The production processes: `gunicorn riskhub.wsgi -w 2` and the Celery workers (CELERY_TOPOLOGIES).
3. Sellers from `manage.py create_seller`; 5,000 buyers / 15,000 flags loaded through
   POST /api/v1/flags/batch (batches of 500) → batch ingestion flags/s.
4. Wait until the worker has scored every buyer (no `needs_score_since` left) → scoring time.
5. The benchmarks chosen with --only (default: all). Each is a function `bench_<name>(ctx)`
   returning a dict of figures, registered in BENCHMARKS. "decisions" runs wrk against
   POST /api/v1/decisions and against GET /healthz (a bare Django view served the same way: the floor).
   "single_flags" runs wrk against POST /api/v1/flags, a new buyer's flag per request. "import" times
   `manage.py import_flags` on a CSV of new buyers' flags, then again on the same file (all already there).
   "split_load" loads the same shape of load again on new buyers with the Celery workers paused, then
   times the workers scoring it alone: ingestion and scoring apart. "naive" runs the same load,
   decisions and import on bench/naive (the plain-Django design the issue measured riskhub
   against), each figure then read as riskhub's multiple of the naive one.
6. A table on stdout, the same as JSON in bench/results/latest.json. Exit 1 on any non-2xx answer
   (or a request wrk got no answer for); the throughput and latency targets are reported, not
   enforced. A rerun of the import that creates anything fails the bench.

The processes are always stopped at the end, also on Ctrl-C or SIGTERM.
"""

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WRK_SCRIPT = BENCH_DIR / "wrk.lua"
BIN = Path(sys.executable).parent

# BENCH_DATABASE / BENCH_REDIS_URL: run two benches side by side without sharing state.
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "riskhub_bench")
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE_NAME}"
NAIVE_DATABASE_NAME = f"{DATABASE_NAME}_naive"
NAIVE_DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{NAIVE_DATABASE_NAME}"
MAINTENANCE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
UNLIMITED = "100000000/min"  # the limiter still counts every request, it just never says no

RATIO_TARGET = 0.5  # decisions ≥ half the bare-view floor (issue 10)
P99_TARGET_MS = 15.0  # decisions' p99 at the bench's connections
FRESHNESS_TARGET_S = 1.0
BATCH_TARGET = 5_000  # flags/s through POST /api/v1/flags/batch, 500 per batch (issue 10)
IMPORT_TARGET = 20_000  # flags/s of a first import (new buyers), `manage.py import_flags` at its default --chunk
# Bodies for single_flags: more than wrk sends in --single-duration, so every request is a new flag.
SINGLE_FLAG_BODIES = 60_000
# New buyers' numbers for buyer_identifiers(): far above any --buyers, so no phone links to a loaded buyer.
SINGLE_BUYERS_FROM = 40_000_000
IMPORT_BUYERS_FROM = 60_000_000
SPLIT_BUYERS_FROM = 80_000_000
IMPORT_COLUMNS = ("email", "phone", "country", "reason", "order_ref", "note")
REASONS = [
    # (code, share): mostly trust reasons, some logistics ones.
    ("refund_abuse", 25),
    ("extortion", 10),
    ("non_payment", 15),
    ("unpaid_order", 15),
    ("card_fraud", 8),
    ("malicious_feedback", 7),
    ("false_quality_dispute", 5),
    ("remote_address", 5),
    ("cod_refusal", 7),
    ("other", 3),
]
REASON_POOL = [code for code, share in REASONS for _ in range(share)]  # rng.choice() draws by share


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class BenchError(RuntimeError):
    pass


class Terminated(BaseException):
    """SIGTERM, handled like Ctrl-C so that `finally` stops the processes."""


def _on_sigterm(signum, frame):
    raise Terminated()


# --- environment and processes -----------------------------------------------------------------


def served_url(url, args):
    """The database URL the served processes get: `url` itself over TCP, or the same database
    through PostgreSQL's Unix socket in --database-socket (a single-host deployment's choice)."""
    if not args.database_socket:
        return url
    return url.replace("127.0.0.1:5432", urllib.parse.quote(args.database_socket, safe=""))


def bench_env(args):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=served_url(DATABASE_URL, args),
        REDIS_URL=REDIS_URL,
        SECRET_KEY="bench-secret-key-not-for-production",
        IDENTIFIER_KEY="bench-identifier-key-not-for-production",
        DEBUG="false",
        ALLOWED_HOSTS="*",
        RATE_LIMIT_DEFAULT=UNLIMITED,
        RATE_LIMIT_DECISIONS=UNLIMITED,
        RATE_LIMIT_FLAGS=UNLIMITED,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


class Process:
    """A child in its own session (so Ctrl-C reaches only us), output in bench/results/<name>.log."""

    def __init__(self, name, argv, env):
        self.name = name
        self.log_path = RESULTS_DIR / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {timeout} s; killing its process group")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # A celery pool child or gunicorn worker left behind by a crashed master: end the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def cpu_seconds(self):
        """CPU time (user + system) used so far by this process and everything in its group."""
        return cpu_seconds(lambda command, fields: int(fields[2]) == self.proc.pid)  # fields[2]: process group

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def cpu_seconds(counts):
    """CPU time (user + system) used so far by the processes for which `counts(command, fields)`
    is true: `command` is the name /proc/<pid>/stat gives, `fields` what follows it. A process's
    children that exited and were reaped count through it (cutime + cstime): a PostgreSQL backend
    whose connection closes during a run, or a gunicorn worker replaced, leaves /proc, and a sum
    of the live processes alone would go down."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # exited meanwhile
        fields = tail.split()
        if counts(head.partition("(")[2], fields):
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds():
    """CPU time used so far by every PostgreSQL process of this machine (the bench's server is
    local): the database's share of a load, measured as a delta."""
    return cpu_seconds(lambda command, fields: command == "postgres")


def steal_ticks():
    """(ticks stolen by the hypervisor, all ticks) so far, over every CPU (/proc/stat): the share
    of a run's time this virtual machine's CPUs waited for the host, measured as a delta. It
    tells a run slowed by neighbours from a slower tree."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[7], sum(fields[:8])  # steal; user … steal (guest time is already in user)


def steal_pct(before):
    """The share of the time since `before` (steal_ticks()) stolen by the host, in percent."""
    stolen, total = (now - then for now, then in zip(steal_ticks(), before, strict=True))
    return round(100 * stolen / total, 1) if total else 0.0


def manage(env, *argv):
    return manage_run(env, *argv)["stdout"]


def manage_run(env, *argv, launcher=("manage.py",)):
    """manage.py argv → its stdout, stderr, wall seconds and peak RSS (MB). `launcher`: what python
    runs instead of manage.py (("-m", "django") for the naive app, whose settings `env` names).

    os.wait4 gives this child's own rusage: RUSAGE_CHILDREN's ru_maxrss is the largest of every child
    so far (migrate, create_seller, celery inspect...), so a delta of it says nothing about this one."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.monotonic()
        proc = subprocess.Popen([str(BIN / "python"), *launcher, *argv], cwd=ROOT, env=env, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM: do not leave it running
            proc.kill()
            proc.wait()
            raise
        seconds = time.monotonic() - began
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"{' '.join((*launcher, *argv))} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return {"stdout": stdout, "stderr": stderr, "seconds": seconds, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def database_reset(name=DATABASE_NAME):
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def sql_value(query, params=()):
    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute(query, params).fetchone()[0]


def start_gunicorn(env, args, app="riskhub.wsgi", port=None, name="gunicorn"):
    port = port or args.port
    argv = [str(BIN / "gunicorn"), app, "-b", f"127.0.0.1:{port}", "-w", str(args.workers)]
    if args.threads > 1:
        argv += ["--worker-class", "gthread", "--threads", str(args.threads)]
    server = Process(name, argv, env)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/readyz", server)
    return server, url


# The Celery topology: "split" is the one docs/scaling.md recommends, a worker on `scoring` (fresh
# flags' score tasks) and one on `mail,maintenance` (bulk score batches, periodic jobs), so a fresh
# flag never waits behind a batch's scoring; "all" is one worker on every queue.
CELERY_TOPOLOGIES = {
    "split": [("scoring", ["-Q", "scoring", "-c", "1"]), ("background", ["-Q", "mail,maintenance", "-c", "1", "-B"])],
    "all": [("all", ["-B"])],
}


def start_workers(env, topology, workers, bulk_nice=0):
    """Start the Celery workers of `topology` into `workers` (so the caller stops every one that
    started, even if a later one fails) and wait until each answers a ping. -B: beat in one of
    them, as in production (its sweep is the safety net for lost tasks). `bulk_nice`: the niceness
    of a worker that takes the `maintenance` queue but not `scoring` (bulk score batches and
    periodic jobs yield the CPU to the web tier and to fresh flags' scoring; docs/scaling.md)."""
    for name, extra in CELERY_TOPOLOGIES[topology]:
        argv = [str(BIN / "celery"), "-A", "riskhub", "worker", "-n", f"{name}@%h", "--loglevel=WARNING", *extra]
        queues = extra[extra.index("-Q") + 1].split(",") if "-Q" in extra else []
        if bulk_nice and "maintenance" in queues and "scoring" not in queues:
            argv = ["nice", "-n", str(bulk_nice), *argv]
        if "-B" in extra:
            argv += ["-s", str(RESULTS_DIR / "celerybeat-schedule")]
        workers.append(Process(f"celery-{name}", argv, env))
    for (name, _), worker in zip(CELERY_TOPOLOGIES[topology], workers, strict=True):
        wait_ping(env, worker, f"{name}@{socket.gethostname()}")


def wait_ping(env, worker, node):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise BenchError(f"the celery worker {node} exited early:\n{worker.log_tail()}")
        ping = subprocess.run(
            [str(BIN / "celery"), "-A", "riskhub", "inspect", "ping", "--timeout", "2", "-d", node],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if ping.returncode == 0 and "pong" in ping.stdout:
            return
        time.sleep(1)
    raise BenchError(f"the celery worker {node} did not answer a ping within 60 s:\n{worker.log_tail()}")


def wait_http(url, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise BenchError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise BenchError(f"{url} did not answer 200 within {timeout} s")


def http_post(url, body, key, timeout=300):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:500]


# --- the data set ---------------------------------------------------------------------------------


def buyer_identifiers(i):
    """Buyer i's identifiers. Every flag carries the email; links form where two sellers name the
    email with the phone (identity as evidence, docs/scoring.md §9)."""
    return {
        "email": f"bench-buyer-{i}@example.com",
        "phone": f"+49151{10_000_000 + i}",
        "platform_id": f"shopee:{500_000 + i}",
    }


def flags_plan(*, buyers, flags, sellers, rng, first=0, prefix="BENCH"):
    """Flags per seller index: every buyer flagged once, the rest skewed towards a few bad buyers.
    Buyers are buyer_identifiers(first + i); order refs are `prefix`-n."""
    # Extra flags favour low-numbered buyers (density ~ 1/sqrt(i)): a few buyers collect many sellers.
    targets = list(range(buyers)) + [int(buyers * rng.random() ** 2) for _ in range(flags - buyers)]
    plan = {s: [] for s in range(sellers)}
    for n, i in enumerate(targets):
        ids = buyer_identifiers(first + i)
        if n < buyers:  # the first flag of each buyer links all three identifiers
            buyer = dict(ids)
        else:
            buyer = {"email": ids["email"]}
            if rng.random() < 0.3:
                buyer["phone"] = ids["phone"]
        plan[rng.randrange(sellers)].append(
            {"buyer": buyer, "reason": rng.choice(REASON_POOL), "order_ref": f"{prefix}-{n}", "note": "bench"}
        )
    return plan


def new_buyer_flags(*, prefix, count, first, rng):
    """`count` flags of new buyers, one each, as the import's CSV rows (IMPORT_COLUMNS), streamed: ~70%
    the email alone, ~30% the email with a national-format phone (country DE), as sellers' exports have
    them. Buyer n's phone is buyer_identifiers(first + n)'s."""
    for n in range(count):
        row = {"email": f"{prefix}-{n}@bench.example", "phone": "", "country": ""}
        if rng.random() < 0.3:
            row.update(phone="0" + buyer_identifiers(first + n)["phone"][3:], country="DE")
        yield row | {"reason": rng.choice(REASON_POOL), "order_ref": f"{prefix.upper()}-{n}", "note": "bench"}


def flag_body(row):
    """A CSV row of new_buyer_flags() → the POST /api/v1/flags body (empty cells left out)."""
    buyer = {k: row[k] for k in ("email", "phone", "country") if row[k]}
    return {"buyer": buyer, "reason": row["reason"], "order_ref": row["order_ref"], "note": row["note"]}


def decision_bodies(*, buyers, count, rng):
    """Decision bodies over `count` loaded buyers, asked for by one identifier or another."""
    lines = []
    for i in rng.sample(range(buyers), min(count, buyers)):
        ids = buyer_identifiers(i)
        kind = rng.random()
        if kind < 0.5:
            buyer = {"email": ids["email"].upper() if rng.random() < 0.3 else ids["email"]}
        elif kind < 0.8:
            buyer = {"phone": "0" + ids["phone"][3:], "country": "DE"}
        else:
            buyer = {"platform_id": ids["platform_id"]}
        body = {"buyer": buyer}
        if rng.random() < 0.5:
            body["order"] = {"ref": f"O-{i}", "payment_method": rng.choice(["cod", "prepaid"]), "value": "42.00"}
        lines.append(json.dumps(body, separators=(",", ":")))
    return lines


# --- loading ------------------------------------------------------------------------------------


def create_sellers(env, count):
    def one(n):
        return manage(env, "create_seller", f"Bench seller {n + 1}").strip().splitlines()[-1]

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, range(count)))


def load_flags(ctx, plan, probe=True, url=None, keys=None, server=None):
    """POST every seller's flags in batches of `batch`; returns the ingestion figures. `probe`: run
    the freshness probe meanwhile (it needs a scorer running). `url`, `keys` and `server`: another
    app's batch endpoint, sellers' keys and gunicorn (the naive reference); riskhub's by default."""
    keys, server = keys or ctx.keys, server or ctx.server
    jobs = []
    for seller, items in plan.items():
        for start in range(0, len(items), ctx.args.batch):
            jobs.append((keys[seller], items[start : start + ctx.args.batch]))
    random.Random(7).shuffle(jobs)
    url = url or ctx.url + "/api/v1/flags/batch"

    def send(job):
        key, items = job
        began = time.monotonic()
        status, body = http_post(url, {"flags": items}, key)
        elapsed = time.monotonic() - began
        if status != 200:
            raise BenchError(f"batch answered {status}: {body}")
        codes = [r["status"] for r in body["results"]]
        return elapsed, codes

    began, web_cpu, db_cpu, steal = time.monotonic(), server.cpu_seconds(), postgres_cpu_seconds(), steal_ticks()
    pool = ThreadPoolExecutor(max_workers=ctx.args.ingest_clients + 1)
    stop = threading.Event()
    probe = pool.submit(freshness_probe, ctx, stop) if probe else None
    try:
        done = list(pool.map(send, jobs))
    finally:
        stop.set()
        # On Ctrl-C or a failed batch, drop the batches not yet sent instead of sending them all.
        pool.shutdown(wait=True, cancel_futures=True)
    wall = time.monotonic() - began
    web_cpu, db_cpu, steal = server.cpu_seconds() - web_cpu, postgres_cpu_seconds() - db_cpu, steal_pct(steal)
    codes = [c for _, cs in done for c in cs]
    created = sum(1 for c in codes if c == 201)
    failed = [c for c in codes if c not in (200, 201)]
    if failed:
        raise BenchError(f"{len(failed)} flags were refused in the batches (statuses {sorted(set(failed))})")
    batch_times = sorted(t for t, _ in done)
    figures = {
        "flags": len(codes),
        "created": created,
        "batches": len(jobs),
        "batch_size": ctx.args.batch,
        "clients": ctx.args.ingest_clients,
        "seconds": round(wall, 2),
        "flags_per_s": round(len(codes) / wall, 1),
        "batch_p50_s": round(batch_times[len(batch_times) // 2], 3),
        "batch_max_s": round(batch_times[-1], 3),
        # CPU per flag, steadier than the rate on a shared machine: gunicorn's, and every PostgreSQL
        # process's (the scorers' queries included while they run).
        "gunicorn_cpu_us_per_flag": round(1e6 * web_cpu / len(codes)),
        "steal_pct": steal,
        "postgres_cpu_us_per_flag": round(1e6 * db_cpu / len(codes)),
    }
    if probe:
        lags = sorted(probe.result())
        figures["freshness"] = {
            "probes": len(lags),
            "p50_s": round(lags[len(lags) // 2], 3) if lags else None,
            "p95_s": round(lags[min(len(lags) - 1, int(len(lags) * 0.95))], 3) if lags else None,
            "max_s": round(lags[-1], 3) if lags else None,
            "target_p95_s": FRESHNESS_TARGET_S,
        }
    return figures, began


def freshness_probe(ctx, stop):
    """While the batches load: one probe seller flags a new buyer, another asks about it until its
    decision counts the flag. Returns the delays (s) from the flag's 201 to the decision seeing it."""
    flagger, asker = ctx.probe_keys
    lags, n = [], 0
    while not stop.is_set():
        n += 1
        buyer = {"email": f"fresh-{n}@probe.example"}
        status, _ = http_post(
            ctx.url + "/api/v1/flags", {"buyer": buyer, "reason": "extortion", "order_ref": f"P-{n}"}, flagger
        )
        if status != 201:
            raise BenchError(f"probe flag answered {status}")
        flagged = time.monotonic()
        while time.monotonic() - flagged < 30:
            status, decision = http_post(ctx.url + "/api/v1/decisions", {"buyer": buyer}, asker)
            if status == 200 and decision["reporting_sellers"] >= 1:
                lags.append(time.monotonic() - flagged)
                break
            time.sleep(0.02)
        else:
            raise BenchError("a probe flag was not in another seller's decision within 30 s")
        stop.wait(0.2)
    return lags


def workers_cpu(ctx):
    return sum(worker.cpu_seconds() for worker in ctx.workers)


def wait_scored(ctx, ingest_began, worker_cpu_before, timeout):
    """Poll PostgreSQL until no buyer is marked as needing a score.

    The worker scores while the batches arrive (each batch enqueues its buyers on commit), so the
    figures are: the backlog left after the last batch, the time from the first flag until every
    buyer was scored, and the worker's CPU time over the whole load.
    """
    ingest_done = time.monotonic()
    deadline = ingest_done + timeout
    while True:
        left = sql_value("SELECT count(*) FROM identity_buyer WHERE needs_score_since IS NOT NULL")
        if left == 0:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"{left} buyers still unscored after {timeout} s")
        for worker in ctx.workers:
            if not worker.alive():
                raise BenchError(f"a celery worker died:\n{worker.log_tail()}")
        time.sleep(0.25)
    finished = time.monotonic()
    buyers = sql_value("SELECT count(*) FROM identity_buyer")
    scored = sql_value("SELECT count(*) FROM scoring_buyerscore")
    if scored != buyers:
        raise BenchError(f"{scored} score rows for {buyers} buyers")
    return {
        "buyers": buyers,
        "identifiers": sql_value("SELECT count(*) FROM identity_identifier"),
        "scored": scored,
        "after_ingestion_s": round(finished - ingest_done, 2),
        "from_first_flag_s": round(finished - ingest_began, 2),
        "worker_cpu_s": round(workers_cpu(ctx) - worker_cpu_before, 2),
    }


# --- wrk ----------------------------------------------------------------------------------------


def wrk(ctx, path, *script_args, duration=None, url=None, server=None):
    """wrk on `path` of riskhub's gunicorn, or of another app's (`url`, `server`: the naive reference)."""
    duration, url, server = duration or ctx.args.duration, url or ctx.url, server or ctx.server
    argv = [
        ctx.wrk,
        f"-t{ctx.args.wrk_threads}",
        f"-c{ctx.args.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url + path,
        "--",
        *script_args,
    ]
    cpu_before, db_before, steal_before = server.cpu_seconds(), postgres_cpu_seconds(), steal_ticks()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    server_cpu, db_cpu = server.cpu_seconds() - cpu_before, postgres_cpu_seconds() - db_before
    stolen = steal_pct(steal_before)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise BenchError(f"wrk printed no BENCH_JSON line:\n{result.stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    print("\n".join(x for x in result.stdout.splitlines() if not x.startswith("BENCH_JSON ")), flush=True)
    non2xx = raw["non2xx"]
    # Cross-check with wrk's own report line (it counts 4xx/5xx only, not 1xx/3xx).
    for text_line in result.stdout.splitlines():
        if "Non-2xx or 3xx responses" in text_line:
            non2xx = max(non2xx, int(text_line.split(":")[1]))
    socket_errors = sum(raw["socket_errors"].values())
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "req_per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(raw["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(raw["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(raw["latency_us"]["max"] / 1000, 2),
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "statuses": raw["statuses"],
        # CPU the gunicorn processes spent per answered request (PostgreSQL, Redis and wrk not included),
        # and every PostgreSQL process's (the Celery workers' queries included, idle during wrk runs).
        "gunicorn_cpu_ms_per_request": round(1000 * server_cpu / raw["requests"], 3) if raw["requests"] else None,
        "postgres_cpu_ms_per_request": round(1000 * db_cpu / raw["requests"], 3) if raw["requests"] else None,
        "steal_pct": stolen,
    }


def decision_bodies_file(ctx):
    """The decision bodies, one JSON per line, for wrk (the same for riskhub and the naive app)."""
    bodies = decision_bodies(buyers=ctx.args.buyers, count=ctx.args.decision_buyers, rng=random.Random(11))
    path = RESULTS_DIR / "decision-bodies.jsonl"
    path.write_text("\n".join(bodies) + "\n")
    return path, bodies


def bench_decisions(ctx):
    """POST /api/v1/decisions vs GET /healthz (the floor), same server, same wrk settings."""
    bodies_path, bodies = decision_bodies_file(ctx)
    key = ctx.keys[0]
    status, sample = http_post(ctx.url + "/api/v1/decisions", json.loads(bodies[0]), key)
    if status != 200 or sample.get("score_computed_at") is None:
        raise BenchError(f"a loaded buyer's decision is not scored: {status} {sample}")
    post = ("post", key, str(bodies_path))

    log(f"warming up ({ctx.args.warmup} s each)")
    wrk(ctx, "/api/v1/decisions", *post, duration=ctx.args.warmup)
    wrk(ctx, "/healthz", "get", duration=ctx.args.warmup)
    log(f"wrk: decisions over {len(bodies)} buyers, {ctx.args.duration} s")
    decisions = wrk(ctx, "/api/v1/decisions", *post)
    log(f"wrk: floor (GET /healthz), {ctx.args.duration} s")
    floor = wrk(ctx, "/healthz", "get")
    ratio = decisions["req_per_s"] / floor["req_per_s"] if floor["req_per_s"] else 0.0
    return {
        "decisions": decisions,
        "floor": floor,
        "ratio": round(ratio, 3),
        "ratio_target": RATIO_TARGET,
        "ratio_ok": ratio >= RATIO_TARGET,
        "p99_target_ms": P99_TARGET_MS,
        "p99_ok": decisions["p99_ms"] <= P99_TARGET_MS,
        "non2xx": decisions["non2xx"] + floor["non2xx"],
        "socket_errors": decisions["socket_errors"] + floor["socket_errors"],
        "decision_buyers": len(bodies),
        "sample_decision": sample,
    }


def bench_single_flags(ctx):
    """POST /api/v1/flags, one new buyer's flag per request: the write path a shop's checkout hook
    takes, without the batch endpoint's amortisation. No target; reported."""
    rows = new_buyer_flags(prefix="single", count=SINGLE_FLAG_BODIES, first=SINGLE_BUYERS_FROM, rng=random.Random(13))
    bodies_path = RESULTS_DIR / "single-flag-bodies.jsonl"
    with bodies_path.open("w") as handle:
        handle.writelines(json.dumps(flag_body(row), separators=(",", ":")) + "\n" for row in rows)
    log(f"wrk: single flags over {SINGLE_FLAG_BODIES} new buyers, {ctx.args.single_duration} s")
    # wrk's thread count as the 4th argument: each thread posts its own slice of the file, no flag twice.
    post = ("post", ctx.keys[0], str(bodies_path), str(ctx.args.wrk_threads))
    flags = wrk(ctx, "/api/v1/flags", *post, duration=ctx.args.single_duration)
    # 201: a new flag; 200: the same flag again (the file cycled) — both fine, non-2xx is not.
    return flags | {"created": flags["statuses"].get("201", 0), "repeated": flags["statuses"].get("200", 0)}


def bench_import(ctx):
    """`manage.py import_flags` on --import-flags new buyers' flags (a seller's history arriving at
    once), then on the same file again: the rerun must find every flag already there."""
    path, count = import_file(ctx), ctx.args.import_flags
    seller = sql_value("SELECT id FROM blacklist_seller WHERE name = %s", ["Bench seller 1"])
    log(f"manage.py import_flags: {count} new flags for seller {seller}")
    first = import_run(ctx, seller, path, {"created": count, "existing": 0, "errors": 0})
    log(f"imported at {first['flags_per_s']} flags/s; the same file again")
    rerun = import_run(ctx, seller, path, {"created": 0, "existing": count, "errors": 0})
    return {
        "rows": count,
        "jobs": ctx.args.import_jobs,
        "seller_id": seller,
        "first": first,
        "rerun": rerun,
        "target_flags_per_s": IMPORT_TARGET,
        "target_ok": first["flags_per_s"] >= IMPORT_TARGET,
    }


def bench_split_load(ctx):
    """The load's two halves measured apart: the same shape of load (--flags flags on --buyers new
    buyers, the same batches and clients) with every Celery worker paused (SIGSTOP), then the
    workers resumed and timed until every buyer is scored. The first figure is what the web tier
    and the database take in when no scoring shares their cores — the ceiling batch ingestion
    approaches as the scorers move to other machines (docs/scaling.md); the second is the
    scorers' own rate. The workers are paused only once no buyer is marked and their queues are
    empty, so none is stopped holding a lock."""
    settle_scored(ctx)
    plan = flags_plan(
        buyers=ctx.args.buyers,
        flags=ctx.args.flags,
        sellers=ctx.args.sellers,
        rng=random.Random(43),
        first=SPLIT_BUYERS_FROM,
        prefix="SPLIT",
    )
    buyers_before = sql_value("SELECT count(*) FROM identity_buyer")
    log(f"{ctx.args.flags} flags on {ctx.args.buyers} new buyers with the Celery workers paused")
    with workers_paused(ctx):
        ingestion, _ = load_flags(ctx, plan, probe=False)
        worker_cpu = workers_cpu(ctx)
    log(f"ingested at {ingestion['flags_per_s']} flags/s; workers resumed, scoring alone")
    resumed = time.monotonic()
    scoring = wait_scored(ctx, resumed, worker_cpu, timeout=ctx.args.score_timeout)
    new_buyers = scoring["buyers"] - buyers_before
    seconds = scoring["after_ingestion_s"]
    return {
        "ingestion": ingestion,
        "scoring": {
            "buyers": new_buyers,
            "seconds": seconds,
            "buyers_per_s": round(new_buyers / seconds, 1) if seconds else None,
            "worker_cpu_s": scoring["worker_cpu_s"],
        },
    }


def settle_scored(ctx, timeout=120):
    """Wait until no buyer is marked and every Celery queue is empty (each queue is a Redis list in
    the bench's own DB), then a second more."""
    broker = redis.Redis.from_url(REDIS_URL)

    def queued():
        return sum(broker.llen(key) for key in broker.scan_iter("*") if broker.type(key) == b"list")

    deadline = time.monotonic() + timeout
    while sql_value("SELECT count(*) FROM identity_buyer WHERE needs_score_since IS NOT NULL") or queued():
        if time.monotonic() > deadline:
            raise BenchError(f"the workers did not settle within {timeout} s")
        time.sleep(0.25)
    time.sleep(1)


@contextlib.contextmanager
def workers_paused(ctx):
    """SIGSTOP every Celery worker's process group (pool children and beat included) for the block."""
    for worker in ctx.workers:
        os.killpg(worker.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for worker in ctx.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.proc.pid, signal.SIGCONT)


def import_file(ctx):
    """The import's CSV: --import-flags new buyers' flags (the same file for riskhub and the naive
    app), written once per run."""
    if ctx.import_path is not None:
        return ctx.import_path
    path = ctx.import_path = RESULTS_DIR / "import-flags.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=IMPORT_COLUMNS)
        writer.writeheader()
        rows = new_buyer_flags(
            prefix="import", count=ctx.args.import_flags, first=IMPORT_BUYERS_FROM, rng=random.Random(17)
        )
        writer.writerows(rows)
    return path


def import_run(ctx, seller, path, expected):
    """One `import_flags` run at its default --chunk and --import-jobs processes, timed by the wall clock
    (Django's start included); BenchError unless its counts are `expected` — a rerun that creates
    anything is not idempotent."""
    jobs = str(ctx.args.import_jobs)
    scoring_before, steal = workers_cpu(ctx), steal_ticks()
    run = manage_run(ctx.env, "import_flags", "--seller", str(seller), "--jobs", jobs, str(path))
    scoring_cpu, steal = workers_cpu(ctx) - scoring_before, steal_pct(steal)
    counts = json.loads(run["stdout"].strip().splitlines()[-1])
    if counts != expected:
        raise BenchError(f"import_flags counted {counts}, expected {expected}:\n{run['stderr'][-2000:]}")
    return {
        "counts": counts,
        "seconds": round(run["seconds"], 2),
        "flags_per_s": round(sum(counts.values()) / run["seconds"], 1),
        "peak_rss_mb": run["peak_rss_mb"],
        "workers_cpu_s": round(scoring_cpu, 2),  # the Celery workers scoring the new buyers meanwhile
        "steal_pct": steal,
        "summary": run["stderr"].strip().splitlines()[-1] if run["stderr"].strip() else "",
    }


def bench_naive(ctx):
    """The naive design on the same machine and database server, as the issue measured it
    (bench/naive: plain Django, `bulk_create`, flags aggregated at request time): its batch
    ingestion of the same load, its decisions over the same bodies (with riskhub's floor measured
    right after, for its ratio), and its import of the same CSV. riskhub's own figures are read
    against these: the one machine-independent way to compare them with the issue's."""
    settle_scored(ctx)
    database_reset(NAIVE_DATABASE_NAME)
    env = ctx.env | {
        "NAIVE_DATABASE_URL": served_url(NAIVE_DATABASE_URL, ctx.args),
        "DJANGO_SETTINGS_MODULE": "naive.settings",
        "PYTHONPATH": str(BENCH_DIR),
    }
    naive = ("-m", "django")
    manage_run(env, "migrate", "--run-syncdb", "--noinput", launcher=naive)
    keys = [f"naive-key-{n}" for n in range(ctx.args.sellers)]
    with psycopg.connect(NAIVE_DATABASE_URL) as conn:
        conn.cursor().executemany(
            "INSERT INTO naive_seller (name, api_key) VALUES (%s, %s)",
            [(f"Naive seller {n + 1}", k) for n, k in enumerate(keys)],
        )
        importer = conn.execute("SELECT id FROM naive_seller WHERE api_key = %s", [keys[0]]).fetchone()[0]
    server, url = start_gunicorn(env, ctx.args, app="naive.wsgi", port=ctx.args.port + 1, name="naive-gunicorn")
    try:
        plan = flags_plan(buyers=ctx.args.buyers, flags=ctx.args.flags, sellers=ctx.args.sellers, rng=random.Random(42))
        log(f"naive: loading the same {ctx.args.flags} flags in batches of {ctx.args.batch}")
        ingestion, _ = load_flags(ctx, plan, probe=False, url=url + "/flags/batch", keys=keys, server=server)
        status, sample = http_post(url + "/decisions", {"buyer": {"email": buyer_identifiers(0)["email"]}}, keys[0])
        if status != 200 or not sample.get("reasons"):
            raise BenchError(f"the naive app does not count a loaded buyer's flags: {status} {sample}")
        with psycopg.connect(NAIVE_DATABASE_URL, autocommit=True) as conn:
            conn.execute("ANALYZE")
        bodies_path, _ = decision_bodies_file(ctx)
        post = ("post", keys[0], str(bodies_path))
        wrk(ctx, "/decisions", *post, duration=ctx.args.warmup, url=url, server=server)
        log(f"naive: wrk on decisions, {ctx.args.duration} s, then riskhub's floor again")
        decisions = wrk(ctx, "/decisions", *post, url=url, server=server)
    finally:
        server.stop()
    floor = wrk(ctx, "/healthz", "get")
    log(f"naive: import of the same {ctx.args.import_flags} rows, --jobs {ctx.args.import_jobs}")
    jobs = str(ctx.args.import_jobs)
    csv_path = str(import_file(ctx))
    run = manage_run(env, "naive_import", "--seller", str(importer), "--jobs", jobs, csv_path, launcher=naive)
    written = json.loads(run["stdout"].strip().splitlines()[-1])["created"]
    if written != ctx.args.import_flags:
        raise BenchError(f"naive_import wrote {written} rows, expected {ctx.args.import_flags}")
    return {
        "ingestion": ingestion,
        "decisions": decisions,
        "floor": floor,
        "decisions_ratio": round(decisions["req_per_s"] / floor["req_per_s"], 3) if floor["req_per_s"] else 0.0,
        "import": {
            "rows": written,
            "jobs": ctx.args.import_jobs,
            "seconds": round(run["seconds"], 2),
            "flags_per_s": round(written / run["seconds"], 1),
            "peak_rss_mb": run["peak_rss_mb"],
        },
        "non2xx": decisions["non2xx"] + floor["non2xx"],
        "socket_errors": decisions["socket_errors"] + floor["socket_errors"],
    }


# Benchmarks run after the load, in this order. To add one: write `bench_<name>(ctx) -> dict`
# (ctx has args, env, url, keys, workers, server, manage(*argv)) and register it here; its dict
# lands under results["benchmarks"][name], and its "non2xx" and "socket_errors" keys count towards the
# exit code.
BENCHMARKS = {
    "decisions": bench_decisions,
    "single_flags": bench_single_flags,
    "split_load": bench_split_load,  # before import, whose scoring backlog it would otherwise wait out
    "import": bench_import,
    "naive": bench_naive,  # last: the reference design, on its own database, once riskhub is idle
}


# --- orchestration ------------------------------------------------------------------------------


class Context:
    def __init__(self, args, env):
        self.args, self.env = args, env
        self.url, self.keys, self.server, self.workers = None, [], None, []
        self.probe_keys = ()
        self.import_path = None  # import_file()'s CSV, once written
        self.wrk = "wrk"

    def manage(self, *argv):
        return manage(self.env, *argv)


def run(args):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    wrk_path = subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True, text=True, check=False).stdout
    if not wrk_path.strip():
        raise BenchError("wrk is not installed (apt-get install wrk; `make bench` does it for you)")
    env = bench_env(args)
    ctx = Context(args, env)
    ctx.wrk = wrk_path.strip()
    chosen = list(BENCHMARKS) if args.only == "all" else [args.only]
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_before": list(os.getloadavg()),
        "gunicorn": {
            "workers": args.workers,
            "worker_class": "gthread" if args.threads > 1 else "sync",
            "threads": max(args.threads, 1),
        },
        "celery_workers": {name: " ".join(extra) for name, extra in CELERY_TOPOLOGIES[args.celery]},
        "bulk_nice": args.bulk_nice,
        "database": f"Unix socket in {args.database_socket}" if args.database_socket else "TCP 127.0.0.1:5432",
        "wrk": {"threads": args.wrk_threads, "connections": args.connections, "duration_s": args.duration},
    }
    try:
        log(f"fresh database {DATABASE_NAME}, Redis DB 14")
        database_reset()
        redis.Redis.from_url(REDIS_URL).flushdb()
        ctx.manage("migrate", "--noinput")
        log(f"creating {args.sellers} sellers (+2 freshness probes) with manage.py create_seller")
        *ctx.keys, flagger, asker = create_sellers(env, args.sellers + 2)
        ctx.probe_keys = (flagger, asker)
        log(f"starting gunicorn and the celery workers ({args.celery})")
        ctx.server, ctx.url = start_gunicorn(env, args)
        start_workers(env, args.celery, ctx.workers, bulk_nice=args.bulk_nice)
        plan = flags_plan(buyers=args.buyers, flags=args.flags, sellers=args.sellers, rng=random.Random(42))
        log(f"loading {args.flags} flags on {args.buyers} buyers in batches of {args.batch}")
        worker_cpu = workers_cpu(ctx)
        results["ingestion"], began = load_flags(ctx, plan)
        log(f"ingested at {results['ingestion']['flags_per_s']} flags/s; waiting for the worker to score every buyer")
        results["scoring"] = wait_scored(ctx, began, worker_cpu, timeout=args.score_timeout)
        # Statistics as autovacuum would have them in steady state: without them the planner may
        # pick a plan for tables it still believes empty, and keep it for a prepared statement.
        # The server's own autovacuum setting is reported with the figures: where it is off (as on
        # the project machine), statistics change only by this ANALYZE and import_flags' own.
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute("ANALYZE")
            results["postgresql"] = {"autovacuum": conn.execute("SHOW autovacuum").fetchone()[0]}
        results["benchmarks"] = {}
        for name in chosen:
            log(f"benchmark: {name}")
            results["benchmarks"][name] = BENCHMARKS[name](ctx)
    finally:
        for process in (ctx.server, *ctx.workers):
            if process is not None:
                process.stop()
        log("processes stopped")
    return results


def failures(results):
    """(non-2xx answers, requests without an answer) over every benchmark: what the exit code counts."""
    done = results["benchmarks"].values()
    return sum(b.get("non2xx", 0) for b in done), sum(b.get("socket_errors", 0) for b in done)


def _latency_cpu(w):
    """A wrk run's latency and CPU per request (gunicorn, PostgreSQL), as the table prints them."""
    return (
        f"p50 {w['p50_ms']} ms · p99 {w['p99_ms']} ms · CPU/req: gunicorn {w['gunicorn_cpu_ms_per_request']} ms, "
        f"PostgreSQL {w['postgres_cpu_ms_per_request']} ms · {w['steal_pct']} % stolen"
    )


def _flag_cpu(ingestion):
    """A load's CPU per flag, as the table prints it."""
    return (
        f"CPU/flag: gunicorn {ingestion['gunicorn_cpu_us_per_flag']} µs, "
        f"PostgreSQL {ingestion['postgres_cpu_us_per_flag']} µs; {ingestion['steal_pct']} % stolen"
    )


# The issue's figures for the naive design on its machine: decisions at 0.25 × the floor, bulk_create
# ingestion at 34,000 flags/s. Its targets read as multiples of them: what bench_naive measures here.
ISSUE_NAIVE_RATIO, ISSUE_NAIVE_FLAGS_PER_S = 0.25, 34_000


def naive_rows(n, ing, d, i):
    """The naive reference's rows, each with riskhub's figure of this run as a multiple of it, and
    the issue's target as the same multiple of the issue's naive figure."""
    ni, nd, nimp = n["ingestion"], n["decisions"], n["import"]

    def versus(ours, theirs, target, issue_naive):
        if ours is None:
            return "riskhub not run here (--only)"
        return (
            f"riskhub {ours / theirs:.2f}× it here; the issue's target was {target / issue_naive:.2f}× its naive figure"
        )

    return [
        (
            "naive: batch ingestion",
            f"{ni['flags_per_s']:.0f} flags/s",
            f"bulk_create, the same load; {_flag_cpu(ni)}; "
            + versus(ing["flags_per_s"], ni["flags_per_s"], BATCH_TARGET, ISSUE_NAIVE_FLAGS_PER_S),
        ),
        (
            "naive: decisions / floor",
            f"{n['decisions_ratio']:.2f}",
            f"{nd['req_per_s']:.0f} req/s against {n['floor']['req_per_s']:.0f}, p99 {nd['p99_ms']} ms; "
            + versus(d and d["ratio"], n["decisions_ratio"], RATIO_TARGET, ISSUE_NAIVE_RATIO),
        ),
        (
            "naive: import",
            f"{nimp['flags_per_s']:.0f} flags/s",
            f"bulk_create of the same CSV, --jobs {nimp['jobs']}; "
            + versus(i and i["first"]["flags_per_s"], nimp["flags_per_s"], IMPORT_TARGET, ISSUE_NAIVE_FLAGS_PER_S),
        ),
    ]


def report(results):
    ing, sc = results["ingestion"], results["scoring"]
    d, i = results["benchmarks"].get("decisions"), results["benchmarks"].get("import")
    rows = [
        (
            "batch ingestion",
            f"{ing['flags_per_s']:.0f} flags/s",
            f"{ing['flags']} flags in {ing['seconds']} s, {ing['batch_size']} per batch; {_flag_cpu(ing)}; "
            f"target ≥ {BATCH_TARGET:,} flags/s — {'OK' if ing['flags_per_s'] >= BATCH_TARGET else 'BELOW'}",
        ),
        (
            "freshness under load (p95)",
            f"{ing['freshness']['p95_s']} s",
            f"a new flag in another seller's decision; p50 {ing['freshness']['p50_s']} s, max "
            f"{ing['freshness']['max_s']} s over {ing['freshness']['probes']} probes; "
            f"target ≤ {FRESHNESS_TARGET_S} s — "
            + ("OK" if (ing["freshness"]["p95_s"] or 0) <= FRESHNESS_TARGET_S else "ABOVE"),
        ),
        ("scoring: all buyers scored", f"{sc['from_first_flag_s']} s", f"from the first flag; {sc['scored']} buyers"),
        ("scoring: backlog after load", f"{sc['after_ingestion_s']} s", f"worker CPU {sc['worker_cpu_s']} s in all"),
    ]
    if d:
        dec, fl = d["decisions"], d["floor"]
        rows += [
            (
                "decisions req/s",
                f"{dec['req_per_s']:.0f}",
                _latency_cpu(dec),
            ),
            (
                "decisions p99",
                f"{dec['p99_ms']} ms",
                f"target ≤ {P99_TARGET_MS} ms — {'OK' if d['p99_ok'] else 'ABOVE'}",
            ),
            (
                "floor (GET /healthz) req/s",
                f"{fl['req_per_s']:.0f}",
                _latency_cpu(fl),
            ),
            (
                "decisions / floor",
                f"{d['ratio']:.2f}",
                f"target ≥ {RATIO_TARGET} — {'OK' if d['ratio_ok'] else 'BELOW'}",
            ),
        ]
    sf = results["benchmarks"].get("single_flags")
    if sf:
        rows.append(
            (
                "single flags req/s",
                f"{sf['req_per_s']:.0f}",
                f"{_latency_cpu(sf)} · {sf['created']} created, {sf['repeated']} repeats — reported (no target)",
            )
        )
    sl = results["benchmarks"].get("split_load")
    if sl:
        si, ss = sl["ingestion"], sl["scoring"]
        rows += [
            (
                "batch, scorers paused",
                f"{si['flags_per_s']:.0f} flags/s",
                f"{si['flags']} flags in {si['seconds']} s; {_flag_cpu(si)}; the same load on new buyers with the "
                f"Celery workers stopped: the web tier and database alone — reported (the target above counts "
                f"the scorers)",
            ),
            (
                "scoring alone, after it",
                f"{ss['buyers_per_s'] or 0:.0f} buyers/s",
                f"{ss['buyers']} buyers in {ss['seconds']} s, worker CPU {ss['worker_cpu_s']} s",
            ),
        ]
    if i:
        first, rerun = i["first"], i["rerun"]
        rows += [
            (
                "import (new flags)",
                f"{first['flags_per_s']:.0f} flags/s",
                f"{i['rows']} rows in {first['seconds']} s, --jobs {i.get('jobs', 1)}, Celery workers' CPU "
                f"meanwhile {first.get('workers_cpu_s', '?')} s; {first.get('steal_pct', '?')} % stolen; "
                f"target ≥ {IMPORT_TARGET:,} flags/s — " + ("OK" if i["target_ok"] else "BELOW"),
            ),
            (
                "import rerun (all there)",
                f"{rerun['flags_per_s']:.0f} flags/s",
                f"{rerun['seconds']} s; {rerun['counts']['existing']} already there, 0 created; "
                f"Celery workers' CPU meanwhile {rerun.get('workers_cpu_s', '?')} s; "
                f"{rerun.get('steal_pct', '?')} % stolen",
            ),
            (
                "import peak RSS",
                f"{first['peak_rss_mb']} MB",
                f"largest process; rerun {rerun['peak_rss_mb']} MB; the file is streamed: flat, whatever its size",
            ),
        ]
    n = results["benchmarks"].get("naive")
    if n:
        rows += naive_rows(n, ing, d, i)
    if any("non2xx" in b for b in results["benchmarks"].values()):
        non2xx, socket_errors = failures(results)
        rows += [
            ("non-2xx answers", str(non2xx), "all wrk runs; target 0 — " + ("OK" if non2xx == 0 else "FAIL")),
            (
                "socket errors",
                str(socket_errors),
                "connect/read/write/timeout — " + ("OK" if not socket_errors else "FAIL"),
            ),
        ]
    width = max(len(r[0]) for r in rows)
    g = results["gunicorn"]
    print()
    print(
        f"riskhub bench — {results['date']} — {results['machine']['cpus']} CPUs — gunicorn -w {g['workers']} "
        f"{g['worker_class']}"
        + (f" ×{g['threads']} threads" if g["worker_class"] == "gthread" else "")
        + (f" — PostgreSQL autovacuum {results['postgresql']['autovacuum']}" if "postgresql" in results else "")
        + f" — database over {results['database']}"
    )
    for name, value, note in rows:
        print(f"  {name.ljust(width)}  {value:>12}  {note}")
    print()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=[*BENCHMARKS, "all"], default="all", help="which benchmark to run after the load")
    p.add_argument("--sellers", type=int, default=20)
    p.add_argument("--buyers", type=int, default=5000)
    p.add_argument("--flags", type=int, default=15000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--ingest-clients", type=int, default=2, help="concurrent batch uploads")
    p.add_argument("--decision-buyers", type=int, default=5000, help="distinct buyers the decision bodies cycle over")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=1, help="> 1: gunicorn --worker-class gthread --threads N")
    p.add_argument("--celery", choices=list(CELERY_TOPOLOGIES), default="split", help="the Celery workers' queues")
    p.add_argument("--bulk-nice", type=int, default=0, help="niceness of the worker on `maintenance` alone (split)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--database-socket",
        metavar="DIR",
        help="serve riskhub (and the naive app) over PostgreSQL's Unix socket in DIR, e.g. /var/run/postgresql, "
        "instead of TCP on 127.0.0.1:5432: what a single-host deployment can choose (default: TCP, as a separate "
        "database host needs)",
    )
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--duration", type=int, default=20, help="seconds per measured wrk run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured wrk traffic before each run")
    p.add_argument("--score-timeout", type=int, default=900)
    p.add_argument("--single-duration", type=int, default=10, help="seconds of wrk on POST /api/v1/flags")
    p.add_argument("--import-flags", type=int, default=100_000, help="rows of the CSV for manage.py import_flags")
    p.add_argument("--import-jobs", type=int, default=2, help="manage.py import_flags --jobs (one per core here)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Ctrl-C must reach `finally` even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        results = run(args)
    except (KeyboardInterrupt, Terminated):
        log("interrupted; processes stopped")
        return 130
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 2
    report(results)
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"results written to {out.relative_to(ROOT)}")
    non2xx, socket_errors = failures(results)
    if non2xx or socket_errors:
        log(f"FAILED: {non2xx} non-2xx answers, {socket_errors} requests without an answer")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
