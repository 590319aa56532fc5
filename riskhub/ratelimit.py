"""Rate limits as token buckets (GCRA) in the shared cache (Redis in production).

A rate "N/window" lets a client spend N units at once and then one unit every window/N
seconds: there is no window boundary where every client's allowance comes back at once, and a
client that bursts waits only for the units it needs. One key per (scope, client) holds the
bucket's "theoretical arrival time"; on Redis one Lua script reads and moves it atomically, on
Redis's own clock (so web processes need not agree on the time), in one round trip — the
limiter stays cheap on the decision hot path.

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


# KEYS[1] the bucket; ARGV: seconds per unit, burst tolerance (s), cost. Returns the wait in
# seconds as a string ("0": allowed and charged). Redis truncates Lua numbers to integers.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + emission * cost
local wait = new_tat - tolerance - now
if wait > 0 then return tostring(wait) end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""

_scripts = weakref.WeakKeyDictionary()
_local_lock = threading.Lock()
_breaker = {"until": 0.0, "logged": 0.0}
LOG_EVERY = 10.0


def hit(key, *, limit, window, cost=1):
    """Charge `cost` units on `key`'s bucket of `limit` per `window` s; raise RateLimited when empty.

    A cost above `limit` is charged as `limit` (a request can take the whole bucket, never more),
    so a batch that fits the API's own size limit is never refused forever.
    """
    cost = max(1, min(int(cost), limit))
    emission = window / limit
    now = time.monotonic()
    if now < _breaker["until"]:
        _fail_open(None)
        return
    try:
        # The rate is part of the key: a bucket's state only means something under its own rate.
        wait = _charge(f"rl:{key}:{limit}/{window:g}", emission=emission, tolerance=window, cost=cost)
    except Exception as exc:
        _breaker["until"] = time.monotonic() + settings.RATE_LIMIT_BREAKER_SECONDS
        _fail_open(exc)
        return
    if wait > 0:
        raise RateLimited(limit=limit, window=window, retry_after=wait)


def _fail_open(exc):
    metrics.incr("riskhub_ratelimit_fail_open_total")
    now = time.monotonic()
    if exc is not None or now - _breaker["logged"] > LOG_EVERY:
        _breaker["logged"] = now
        reason = exc.__class__.__name__ if exc is not None else "circuit open after a recent failure"
        logger.warning("rate limiter unavailable (%s); request allowed", reason)


def _charge(cache_key, *, emission, tolerance, cost):
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        script = _script_for(backend)
        return float(script(keys=[backend.make_and_validate_key(cache_key)], args=[emission, tolerance, cost]))
    # The in-memory cache of `make run` and the SQLite test mode: one process, so a lock suffices.
    with _local_lock:
        now = time.time()
        tat = max(backend.get(cache_key) or 0.0, now)
        new_tat = tat + emission * cost
        wait = new_tat - tolerance - now
        if wait > 0:
            return wait
        backend.set(cache_key, new_tat, timeout=math.ceil(new_tat - now) + 1)
        return 0.0


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
