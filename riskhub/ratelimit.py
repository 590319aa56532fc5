"""Fixed-window rate limits per API key, counted in the shared cache (Redis in production).

One cache round trip per request in the common case (an INCR on Redis), so the limiter stays
cheap on the decision hot path. A view picks its bucket with `throttle_scope`; rates come from settings.
"""

import logging
import time
import weakref

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from riskhub.env import parse_rate
from riskhub.errors import ApplicationError

__all__ = ["KeyRateThrottle", "hit", "parse_rate", "scope_hit"]
logger = logging.getLogger(__name__)


def hit(key, *, limit, window):
    """Count one hit on `key`; raise a 429 ApplicationError when over `limit` in this window."""
    now = time.time()
    bucket = int(now // window)
    try:
        count = _count(f"rl:{key}:{bucket}", timeout=window + 1)
    except Exception as exc:
        # Fail open: a Redis outage must not take the API down with it (readyz reports it).
        logger.warning("rate limiter unavailable (%s); request allowed", exc.__class__.__name__)
        return
    if count > limit:
        retry_after = max(1, int((bucket + 1) * window - now + 0.999))
        raise ApplicationError(
            "Rate limit exceeded; retry later.",
            code="rate_limited",
            status=429,
            details={"limit": limit, "window_seconds": window},
            headers={"Retry-After": str(retry_after)},
        )


_clients = weakref.WeakKeyDictionary()


def _redis_client(backend):
    """The cache's own Redis client (same server, pool and database), built once per cache.

    Django's cache builds a new client object for every call, which cost more than the round trip.
    """
    owner = backend._cache
    client = _clients.get(owner)
    if client is None:
        client = _clients[owner] = owner.get_client(write=True)
    return client


def _count(cache_key, *, timeout):
    """Add one to this window's counter in the shared cache; returns the new count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One INCR instead of Django's EXISTS + INCR (and SET on a window's first hit); the
        # window's first hit also sets the expiry. Same key and encoding as the cache API (Django
        # keeps ints as plain Redis integers), so cache.get() and cache.clear() see these counters.
        # A crash between INCR and EXPIRE leaves one counter without expiry: harmless, since the
        # window number is part of the key and no later request uses it again.
        redis_key = backend.make_and_validate_key(cache_key)
        client = _redis_client(backend)
        count = client.incr(redis_key)
        if count == 1:
            client.expire(redis_key, timeout)
        return count
    try:
        return cache.incr(cache_key)
    except ValueError:  # first hit in this window
        if cache.add(cache_key, 1, timeout=timeout):
            return 1
        return cache.incr(cache_key)


def scope_hit(scope, *, ident):
    """Count one request of `ident` (an API key's id, or a client address) against the `scope`
    rate in settings.RATE_LIMITS; raise the 429 ApplicationError when over it.

    Used by KeyRateThrottle and by the lean decision path (scoring.fastpath)."""
    limit, window = parse_rate(settings.RATE_LIMITS[scope])
    hit(f"{scope}:{ident}", limit=limit, window=window)


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        ident = request.auth.pk if getattr(request.auth, "pk", None) else self.get_ident(request)
        scope_hit(getattr(view, "throttle_scope", "default"), ident=ident)
        return True
