"""Reads for the blacklist app."""

from blacklist.models import Flag, Reason


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
