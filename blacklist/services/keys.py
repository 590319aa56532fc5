"""Sellers and API keys."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from blacklist import keycache
from blacklist.models import ApiKey, Seller

KEY_PREFIX = "rh_"


def key_digest(raw_key):
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, seller=None, is_admin=False, name=""):
    """Create a key; returns (ApiKey, raw key). The raw key is never stored: show it once."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(seller=seller, is_admin=is_admin, name=name, prefix=raw[:10], digest=key_digest(raw))
    return key, raw


def api_key_revoke(*, key):
    """Revoke a key: at once in this process, within API_KEY_CACHE_SECONDS in every other one."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    keycache.forget(key.digest)


def seller_create(*, name, contact_email=""):
    """Create a seller with its first API key; returns (seller, raw key)."""
    with transaction.atomic():
        seller = Seller.objects.create(name=name, contact_email=contact_email)
        _, raw = api_key_create(seller=seller, name="default")
    return seller, raw
