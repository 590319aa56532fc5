"""Real processes for integration tests: a Celery worker, gunicorn. No mocks of our stack."""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOG_DIR = ROOT / "var" / "test-logs"
# Child processes (gunicorn, workers) write their mail here, one file per message.
MAIL_DIR = ROOT / "var" / "test-mail" / str(os.getpid())
REAL_STACK = os.environ.get("RISKHUB_REAL_STACK") == "1"


def test_database_url():
    """DATABASE_URL, pointed at the database pytest-django created for this run."""
    parts = urllib.parse.urlsplit(settings.DATABASE_URL)
    return urllib.parse.urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def process_env(**extra):
    env = dict(os.environ)
    env.update(DATABASE_URL=test_database_url(), REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1")
    MAIL_DIR.mkdir(parents=True, exist_ok=True)
    env.update(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(MAIL_DIR))
    env.update(extra)
    return env


def mail_to(address, pattern, timeout=30):
    """The first match of `pattern` (a compiled regex) in a mail a child process sent to `address`."""

    def find():
        for path in sorted(MAIL_DIR.glob("*.log")):
            text = path.read_text(errors="replace")
            if f"To: {address}" in text:
                match = pattern.search(text)
                if match:
                    return match
        return None

    return wait_for(find, timeout=timeout, message=f"a mail to {address}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its output in var/test-logs/<name>.log."""

    def __init__(self, name, argv, env):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL: the process dies mid-work, as in a crash."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self, timeout=20):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_worker(name=None, concurrency=1):
    """Start `celery -A riskhub worker` on the test database and wait until it answers a ping."""
    from riskhub.celery import app

    node = f"{name or 'worker'}-{uuid.uuid4().hex[:8]}@localhost"
    worker = Process(
        node.split("@")[0],
        [
            str(BIN / "celery"),
            "-A",
            "riskhub",
            "worker",
            "-n",
            node,
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        process_env(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited early:\n{worker.log_tail()}")
        replies = app.control.ping(destination=[node], timeout=1.0)
        if replies:
            worker.node = node
            return worker
    worker.stop()
    raise RuntimeError(f"celery worker did not answer within 60 s:\n{worker.log_tail()}")


def start_gunicorn(workers=2, port=None, **env):
    port = port or free_port()
    server = Process(
        f"gunicorn-{port}",
        [str(BIN / "gunicorn"), "riskhub.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--access-logfile", "-"],
        process_env(**env),
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", server)
    server.url = url
    return server


def wait_http(url, process=None, timeout=60):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def wait_for(predicate, timeout=30, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def wait_worker_idle(worker, timeout=60):
    """Until `worker` (a start_worker process) has no task running, reserved or queued, twice in a
    row — so a test's teardown does not truncate tables under a task still in a transaction."""
    import redis

    from riskhub.celery import app

    broker = redis.Redis.from_url(settings.REDIS_URL)

    def idle_now():
        queued = sum(broker.llen(name) for name in broker.scan_iter("*") if broker.type(name) == b"list")
        inspect = app.control.inspect(destination=[worker.node], timeout=1.0)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return not queued and not any(active.values()) and not any(reserved.values())

    def idle():
        return idle_now() and (time.sleep(0.5) or idle_now())

    wait_for(idle, timeout=timeout, interval=0.5, message="the worker to go idle")


def scored_by_worker(worker, buyers, timeout=180):
    """Until the real worker (a WorkerHandle) has scored every buyer of `buyers` (a queryset) and
    gone idle: what a command's commits asked for reached the scores, and no task of it is left
    in a transaction when the test's teardown truncates the tables."""
    wait_for(
        lambda: not buyers.filter(needs_score_since__isnull=False).exists(),
        timeout=timeout,
        message="the worker to score every buyer",
    )
    assert not buyers.filter(score__isnull=True).exists(), "a buyer was left without a score"
    wait_worker_idle(worker.process)


class WorkerHandle:
    """A worker that tests may stop, kill and start again."""

    def __init__(self, name):
        self.name = name
        self.process = start_worker(name)

    def stop(self):
        if self.process is not None:
            self.process.stop()
            self.process = None

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.stop()
            self.process = None

    def start(self):
        if self.process is None:
            self.process = start_worker(self.name)
        return self
