"""Reads for the blacklist app."""

import time

from blacklist.models import Flag, Reason

# Reasons are read on every flag and decision, so they are cached in-process for a short while;
# admin edits take effect within REASONS_TTL seconds everywhere.
REASONS_TTL = 30.0
_reasons = {"at": 0.0, "rows": None}


def flags_of(*, seller, reason=None, status=None):
    """The seller's own flags, newest first."""
    flags = Flag.objects.filter(seller=seller)
    if reason:
        flags = flags.filter(reason_id=reason)
    if status:
        flags = flags.filter(status=status)
    return flags.order_by("-created_at", "-id")


def reasons_all():
    return Reason.objects.all()


def reasons_cached():
    """{code: Reason}, at most REASONS_TTL seconds old. The same dict until it is reloaded."""
    now = time.monotonic()
    if _reasons["rows"] is None or now - _reasons["at"] > REASONS_TTL:
        _reasons["rows"] = {r.code: r for r in Reason.objects.all()}
        _reasons["at"] = now
    return _reasons["rows"]


def reasons_forget():
    _reasons["rows"] = None
