"""Console reads: a seller's users and API keys."""

from django.db.models import F

from blacklist.models import ApiKey
from console.models import Membership


def members_of(*, seller):
    return Membership.objects.filter(seller=seller).select_related("user").order_by("created_at", "id")


def api_keys_of(*, seller):
    """The seller's keys, live ones first, newest first."""
    return ApiKey.objects.filter(seller=seller).order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")


def membership_of(user):
    """The user's membership (with its seller), or None for users of no seller (e.g. staff)."""
    if not user.is_authenticated:
        return None
    try:
        return Membership.objects.select_related("seller").get(user=user)
    except Membership.DoesNotExist:
        return None
