"""A per-process cache of live API keys, so most requests authenticate without a query.

Every API request authenticates, and the key lookup was a quarter of a decision's time under
load (docs/benchmarks.md). An entry (the key's and its seller's model instances, as read;
blacklist.auth hands out copies) is trusted for API_KEY_CACHE_SECONDS (default 1): revoking a key
or deactivating a seller takes effect within that time in every process, and at once in the
process that revoked it. Unknown keys are never cached, so nothing here can keep a bad key alive.
"""

import time

from django.conf import settings

MAX_ENTRIES = 10_000
_rows = {}  # digest → [(key, seller), fetched_at (monotonic), last_used_at override or None]


def cached(digest):
    """(key, seller, last_used_at override) if a fresh entry exists, else None."""
    entry = _rows.get(digest)
    if entry is None or time.monotonic() - entry[1] >= settings.API_KEY_CACHE_SECONDS:
        return None
    return (*entry[0], entry[2])


def remember(digest, instances):
    """Keep (key, seller) — model instances nobody changes — for API_KEY_CACHE_SECONDS."""
    if settings.API_KEY_CACHE_SECONDS <= 0:
        return
    if len(_rows) >= MAX_ENTRIES:
        _rows.clear()
    _rows[digest] = [instances, time.monotonic(), None]


def note_used(digest, moment):
    entry = _rows.get(digest)
    if entry is not None:
        entry[2] = moment


def forget(digest=None):
    """Drop one key's entry (after revoking it here), or every entry."""
    if digest is None:
        _rows.clear()
    else:
        _rows.pop(digest, None)
