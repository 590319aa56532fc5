"""Rate limits as token buckets (GCRA) in the shared cache (Redis in production).

A rate "N/window" lets a client spend N units at once and then one unit every window/N
seconds: there is no window boundary where every client's allowance comes back at once, and a
client that bursts waits only for the units it needs. One key per (scope, client) holds the
bucket's "theoretical arrival time"; on Redis one Lua script reads and moves it atomically, on
Redis's own clock (so web processes need not agree on the time).

The decision hot path cannot afford a Redis round trip per request (docs/benchmarks.md), so a
process leases units: on a trip it may charge a few more units than the request needs and hand
them out itself for up to a second (Leases). Leased units are charged to the shared bucket before
they are handed out, so every process together never admits more than the limit; leftovers go
back on the next trip. A lease is at most a hundredth of the bucket, so a busy client meets its
limit at most 1% early per web process, and a limit under 100 is charged request by request.

Redis trouble fails open: the request is allowed, a warning is logged (at most every few
seconds) and `riskhub_ratelimit_fail_open_total` counts it. The cache client's timeouts are
REDIS_TIMEOUT_MS (settings), and after a failure the limiter leaves Redis alone for
RATE_LIMIT_BREAKER_SECONDS, so a Redis that stops answering costs a request at most that timeout.
"""

import logging
import math
import threading
import time
import weakref

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from riskhub import metrics
from riskhub.clientip import client_ip
from riskhub.env import parse_rate
from riskhub.errors import ApplicationError

__all__ = ["KeyRateThrottle", "RateLimited", "hit", "parse_rate", "scope_hit"]
logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    status = 429
    code = "rate_limited"

    def __init__(self, *, limit, window, retry_after):
        super().__init__(
            "Rate limit exceeded; retry later.",
            details={"limit": limit, "window_seconds": window},
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )


# KEYS[1] the bucket; ARGV: seconds per unit, burst tolerance (s), cost, lease (extra units wanted
# if they fit), back (leased units returned unused). Returns {units granted beyond the cost, wait}
# as strings (Redis truncates Lua numbers to integers); wait "0" means allowed and charged.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local back = tonumber(ARGV[5])
local stored = redis.call('GET', KEYS[1])
local tat = tonumber(stored or '0')
if back > 0 and stored then tat = tat - emission * back end
if tat < now then tat = now end
local new_tat = tat + emission * cost
local wait = new_tat - tolerance - now
if wait > 0 then
  if back > 0 and stored then
    redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
  end
  return {'0', tostring(wait)}
end
local extra = math.min(lease, math.floor((tolerance + now - new_tat) / emission))
new_tat = new_tat + emission * extra
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {tostring(extra), '0'}
"""

_scripts = weakref.WeakKeyDictionary()
_local_lock = threading.Lock()
_breaker = {"until": 0.0, "logged": 0.0}
LOG_EVERY = 10.0
# Leases: a process may take up to this many units from a bucket in one trip and hand them out
# itself, for at most LEASE_SECONDS; never more than a hundredth of the bucket (so a limit under 100
# is charged in Redis request by request, exactly).
LEASE_MAX = 50
LEASE_SECONDS = 1.0
LEASES_MAX_BUCKETS = 10_000


class Leases:
    """Units this process has already charged to shared buckets and not yet handed out.

    Every unit handed out was charged in the shared bucket first, so all processes together never
    admit more than the limit allows; leftovers are returned on the process's next trip to Redis,
    so an idle process holds at most one lease per bucket. The lease grows (doubling, up to its cap)
    while requests use it up before it expires, and shrinks to what was used when they do not.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.held = {}  # bucket → [units left, monotonic time taken, units granted]

    def take(self, bucket, cost):
        """Spend `cost` units from this process's lease on `bucket`; True if it had them."""
        with self.lock:
            lease = self.held.get(bucket)
            if lease and lease[0] >= cost and time.monotonic() - lease[1] < LEASE_SECONDS:
                lease[0] -= cost
                return True
            return False

    def give_back(self, bucket, cap):
        """Before a trip: (units to return, units to ask for beyond the cost)."""
        with self.lock:
            lease = self.held.pop(bucket, None)
        if not cap:
            return 0, 0
        if lease is None:
            return 0, 1
        left, _, granted = lease
        used = granted - left
        return left, min(cap, max(1, used * 2 if left == 0 else used))

    def grant(self, bucket, units):
        if units > 0:
            with self.lock:
                if len(self.held) >= LEASES_MAX_BUCKETS:  # bounded memory: forgotten units are
                    self.held.clear()  # only ever admitted less, never more
                self.held[bucket] = [units, time.monotonic(), units]

    def clear(self):
        with self.lock:
            self.held.clear()


_leases = Leases()


def forget():
    """Drop this process's leases and reset its circuit breaker (tests start from a clean process)."""
    _leases.clear()
    _breaker.update(until=0.0, logged=0.0)


def hit(key, *, limit, window, cost=1, leases=None):
    """Charge `cost` units on `key`'s bucket of `limit` per `window` s; raise RateLimited when empty.

    A cost above `limit` is charged as `limit` (a request can take the whole bucket, never more),
    so a batch that fits the API's own size limit is never refused forever. `leases` is the
    process's Leases (tests pass their own to play several processes).
    """
    leases = _leases if leases is None else leases
    cost = max(1, min(int(cost), limit))
    # The rate is part of the key: a bucket's state only means something under its own rate.
    bucket = f"rl:{key}:{limit}/{window:g}"
    if leases.take(bucket, cost):
        return
    emission = window / limit
    now = time.monotonic()
    if now < _breaker["until"]:
        _fail_open(None)
        return
    back, lease = leases.give_back(bucket, min(LEASE_MAX, limit // 100))
    try:
        extra, wait = _charge(bucket, emission=emission, tolerance=window, cost=cost, lease=lease, back=back)
    except Exception as exc:
        _breaker["until"] = time.monotonic() + settings.RATE_LIMIT_BREAKER_SECONDS
        _fail_open(exc)
        return
    if wait > 0:
        raise RateLimited(limit=limit, window=window, retry_after=wait)
    leases.grant(bucket, extra)


def _fail_open(exc):
    metrics.incr("riskhub_ratelimit_fail_open_total")
    now = time.monotonic()
    if exc is not None or now - _breaker["logged"] > LOG_EVERY:
        _breaker["logged"] = now
        reason = exc.__class__.__name__ if exc is not None else "circuit open after a recent failure"
        logger.warning("rate limiter unavailable (%s); request allowed", reason)


def _charge(bucket, *, emission, tolerance, cost, lease, back):
    """The GCRA step (the Lua script above) on the shared cache: (extra units granted, wait s)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        script = _script_for(backend)
        extra, wait = script(
            keys=[backend.make_and_validate_key(bucket)], args=[emission, tolerance, cost, lease, back]
        )
        return int(extra), float(wait)
    # The in-memory cache of `make run` and the SQLite test mode: one process, so a lock suffices.
    with _local_lock:
        now = time.time()
        stored = backend.get(bucket)
        tat = (stored or 0.0) - (emission * back if stored is not None else 0.0)
        tat = max(tat, now)
        new_tat = tat + emission * cost
        wait = new_tat - tolerance - now
        if wait > 0:
            if back and stored is not None:
                backend.set(bucket, tat, timeout=math.ceil(tat - now) + 1)
            return 0, wait
        extra = min(lease, math.floor((tolerance + now - new_tat) / emission))
        new_tat += emission * extra
        backend.set(bucket, new_tat, timeout=math.ceil(new_tat - now) + 1)
        return extra, 0.0


def _script_for(backend):
    """The GCRA script registered on the cache's own Redis client (same server, pool, database).

    Built once per cache: Django's cache builds a new client object for every call, which cost
    more than the round trip. The script is sent by its SHA (EVALSHA) after the first call.
    """
    owner = backend._cache
    script = _scripts.get(owner)
    if script is None:
        script = _scripts[owner] = owner.get_client(write=True).register_script(_GCRA)
    return script


def scope_hit(scope, *, ident, cost=1):
    """Charge `cost` requests of `ident` (an API key's id, or a client address) against the `scope`
    rate in settings.RATE_LIMITS; raise RateLimited when over it.

    Used by KeyRateThrottle and by the decision view (scoring.views.decisions)."""
    limit, window = parse_rate(settings.RATE_LIMITS[scope])
    hit(f"{scope}:{ident}", limit=limit, window=window, cost=cost)


class KeyRateThrottle(BaseThrottle):
    """Per API key (or per client address when there is none). A view may price a request in
    units with `throttle_cost(request)` (the flag batch: one unit per item)."""

    def allow_request(self, request, view):
        ident = request.auth.pk if getattr(request.auth, "pk", None) else client_ip(request)
        cost = view.throttle_cost(request) if hasattr(view, "throttle_cost") else 1
        scope_hit(getattr(view, "throttle_scope", "default"), ident=ident, cost=cost)
        return True
