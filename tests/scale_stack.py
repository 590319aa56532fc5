"""More real processes for the scaling tests: a Celery worker on chosen queues or through another
DATABASE_URL, and PgBouncer in front of the test database. Built on tests/stack.py."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from tests import stack


def start_worker(name, *, queues=None, **env):
    """`celery -A riskhub worker [-Q queues]` with `env` on top of the test environment; waits
    until it answers a ping."""
    from riskhub.celery import app

    node = f"{name}-{uuid.uuid4().hex[:8]}@localhost"
    argv = [str(stack.BIN / "celery"), "-A", "riskhub", "worker", "-n", node, "--concurrency=1", "--loglevel=INFO"]
    argv += ["--without-gossip", "--without-mingle"] + (["-Q", ",".join(queues)] if queues else [])
    worker = stack.Process(node.split("@")[0], argv, stack.process_env(**env))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited early:\n{worker.log_tail()}")
        if app.control.ping(destination=[node], timeout=1.0):
            worker.node = node
            return worker
    worker.stop()
    raise RuntimeError(f"celery worker did not answer within 60 s:\n{worker.log_tail()}")


def wait_worker_quiet(worker, timeout=60):
    """Until `worker` runs and holds no task, twice in a row. Unlike stack.wait_worker_idle, other
    queues may hold messages: a worker on some queues leaves the others alone."""
    from riskhub.celery import app

    def quiet_now():
        inspect = app.control.inspect(destination=[worker.node], timeout=1.0)
        replies = [inspect.active(), inspect.reserved()]
        return all(reply is not None and not any(reply.values()) for reply in replies)

    stack.wait_for(lambda: quiet_now() and (time.sleep(0.5) or quiet_now()), timeout=timeout, interval=0.5)


def pgbouncer_binary():
    return shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if os.path.exists(p)), None)


class PgBouncer:
    """PgBouncer on a free port in front of the test database's server (trust auth on 127.0.0.1,
    as this machine's and CI's PostgreSQL). `url` is the test database URL through it."""

    def __init__(self, *, pool_mode="transaction", pool_size=3, aliases=()):
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError("pgbouncer is not installed (apt-get install -y pgbouncer; .ci/run does it)")
        target = urllib.parse.urlsplit(stack.test_database_url())
        user = urllib.parse.unquote(target.username or "postgres")
        self.port = stack.free_port()
        # PgBouncer refuses to run as root: it then drops to `nobody`, which must read its files.
        as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="riskhub-pgbouncer-", dir="/tmp" if as_root else None))
        self.dir.chmod(0o755)
        server = f"host={target.hostname} port={target.port or 5432} user={user}"
        if target.password:
            server += f" password={urllib.parse.unquote(target.password)}"
        (self.dir / "users.txt").write_text(f'"{user}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    # Extra names for the test database, so SHOW STATS counts each one's queries.
                    *(f"{alias} = {server} dbname={target.path.lstrip('/')}" for alias in aliases),
                    f"* = {server}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"admin_users = {user}",
                    f"auth_file = {self.dir / 'users.txt'}",
                    f"pool_mode = {pool_mode}",
                    f"default_pool_size = {pool_size}",
                    "max_client_conn = 200",
                    "ignore_startup_parameters = extra_float_digits",
                    "",
                ]
            )
        )
        for path in self.dir.iterdir():
            path.chmod(0o644)
        argv = [binary] + (["-u", "nobody"] if as_root else []) + [str(self.dir / "pgbouncer.ini")]
        self.process = stack.Process(f"pgbouncer-{self.port}", argv, dict(os.environ))
        self._wait_listening()
        self.user = user
        self.url = urllib.parse.urlunsplit(
            target._replace(netloc=f"{target.netloc.rpartition('@')[0]}@127.0.0.1:{self.port}".lstrip("@"))
        )

    def url_of(self, alias):
        """The test database under one of its extra names."""
        return urllib.parse.urlunsplit(urllib.parse.urlsplit(self.url)._replace(path=f"/{alias}"))

    def queries(self):
        """{database name: queries PgBouncer has passed on}, from its admin console (SHOW STATS
        needs the simple query protocol, hence psql)."""
        shown = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "pgbouncer", "-A", "-F", "|"]
            + ["-c", "SHOW STATS"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        header = shown[0].split("|")
        rows = [dict(zip(header, line.split("|"), strict=True)) for line in shown[1:] if line.count("|")]
        return {row["database"]: int(row["total_query_count"]) for row in rows}

    def _wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"pgbouncer exited early:\n{self.process.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"pgbouncer did not listen within {timeout} s:\n{self.process.log_tail()}")

    def stop(self):
        self.process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
