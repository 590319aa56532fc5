"""Fixed-window rate limits per API key, counted in the shared cache (Redis in production).

One cache round trip per request in the common case (`incr`), so the limiter stays cheap on the
decision hot path. A view picks its bucket with `throttle_scope`; rates come from settings.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from riskhub.errors import ApplicationError

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(rate):
    """'600/min' → (600, 60)."""
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"bad rate {rate!r}; use N/s, N/min or N/hour") from None


def hit(key, *, limit, window):
    """Count one hit on `key`; raise a 429 ApplicationError when over `limit` in this window."""
    now = time.time()
    bucket = int(now // window)
    cache_key = f"rl:{key}:{bucket}"
    try:
        count = cache.incr(cache_key)
    except ValueError:  # first hit in this window
        if cache.add(cache_key, 1, timeout=window + 1):
            count = 1
        else:
            count = cache.incr(cache_key)
    if count > limit:
        retry_after = max(1, int((bucket + 1) * window - now + 0.999))
        raise ApplicationError(
            "Rate limit exceeded; retry later.",
            code="rate_limited",
            status=429,
            details={"limit": limit, "window_seconds": window},
            headers={"Retry-After": str(retry_after)},
        )


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        scope = getattr(view, "throttle_scope", "default")
        limit, window = parse_rate(settings.RATE_LIMITS[scope])
        ident = request.auth.pk if getattr(request.auth, "pk", None) else self.get_ident(request)
        hit(f"{scope}:{ident}", limit=limit, window=window)
        return True
