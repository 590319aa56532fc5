"""The Celery broker transport: kombu's Redis transport, publishing through one client per channel.

kombu's Redis channel builds a new `redis.Redis` client for every message it publishes
(`Channel.conn_or_acquire`). The client draws its connection from the channel's pool either way,
but building one sets up redis-py's response callbacks: ≈ 0.1 ms of CPU here, a fifth of
publishing a task, which every flag's score wake-up does (docs/benchmarks.md). This channel
keeps one client for its pool and hands it out instead. A redis-py client is safe to share
between threads: each command takes a connection from the pool and gives it back. When kombu
replaces the pool (after a fork, or on close), the next publish builds a client for the new pool.

Used when the broker URL is plain `redis://` (settings: CELERY_BROKER_TRANSPORT); any other
broker URL keeps kombu's own transport.
"""

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _publisher = None  # (pool, client)

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        pool = self.pool
        if self._publisher is None or self._publisher[0] is not pool:
            self._publisher = (pool, self._create_client())
        yield self._publisher[1]


class Transport(redis.Transport):
    Channel = Channel
