"""Process-local counters, served in the Prometheus text format at /metrics.

Counters are per process (each gunicorn worker keeps its own; Prometheus sums the scrapes of
every instance). Deliberately tiny: the things operators must be able to alert on — the rate
limiter failing open, Redis timeouts — without a metrics dependency.
"""

import threading

from django.http import HttpResponse

_lock = threading.Lock()
_counters = {}

HELP = {
    "riskhub_ratelimit_fail_open_total": "Requests let through because the rate-limit store did not answer.",
}


def incr(name, amount=1):
    with _lock:
        _counters[name] = _counters.get(name, 0) + amount


def value(name):
    return _counters.get(name, 0)


def metrics_view(request):
    lines = []
    with _lock:
        snapshot = dict(_counters)
    for name in sorted(set(HELP) | set(snapshot)):
        if name in HELP:
            lines.append(f"# HELP {name} {HELP[name]}")
        lines.append(f"# TYPE {name} counter")
        lines.append(f"{name} {snapshot.get(name, 0)}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
