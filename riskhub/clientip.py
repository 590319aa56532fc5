"""The client's address, for rate limits: the socket's peer unless a trusted proxy says otherwise.

`X-Forwarded-For` is written by whoever sent the request, so it is believed only as far as
settings allow (both from the environment):

- TRUSTED_PROXIES (addresses or networks): the header is read from the right, skipping hops
  that are trusted proxies, and only when the socket peer itself is one. The first untrusted
  hop is the client.
- TRUSTED_PROXY_COUNT (N): exactly N proxies stand in front of the web process; the client is
  the N-th address from the right.

Neither set: the socket address, whatever the header says. A malformed entry where the client
should be falls back to the socket address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(entries):
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address, networks):
    return address is not None and any(address in net for net in networks)


def client_ip(request):
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    count = settings.TRUSTED_PROXY_COUNT
    if not networks and not count:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if networks:
        if not _trusted(_ip(remote), networks):
            return remote
        for hop in reversed(hops):
            address = _ip(hop)
            if address is None:
                return remote
            if not _trusted(address, networks):
                return str(address)
        return str(_ip(hops[0])) if hops else remote
    if len(hops) < count:
        return remote
    address = _ip(hops[-count])
    return str(address) if address is not None else remote
