"""API key authentication and the seller / admin permissions."""

from datetime import timedelta
from functools import cache

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from blacklist import keycache
from blacklist.models import ApiKey, Seller
from blacklist.services.keys import key_digest
from riskhub import rows

# last_used_at is written at most this often per key, to keep writes off the hot path.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The 401 message for a request with no key, wherever a key is required.
NO_KEY = "Send 'Authorization: Bearer <api key>'."


@cache
def _live_key_sql():
    qn = connection.ops.quote_name
    return (
        f"SELECT {rows.select_list(ApiKey, 'k')}, {rows.select_list(Seller, 's')} "  # noqa: S608 - names, not values
        f"FROM {qn(ApiKey._meta.db_table)} k "
        f"LEFT JOIN {qn(Seller._meta.db_table)} s ON s.id = k.seller_id "
        "WHERE k.digest = %s AND k.revoked_at IS NULL"
    )


def live_key_find(*, digest):
    """The unrevoked key with this digest, with its seller loaded; or None.

    The same as `ApiKey.objects.select_related("seller").filter(digest=digest,
    revoked_at__isnull=True).first()` (digests are unique), written out because it runs on every
    API request and the ORM spent ~1 ms compiling it each time (riskhub.rows). The instances are
    kept for up to API_KEY_CACHE_SECONDS (blacklist.keycache); each call gets copies of them
    (riskhub.rows.clone), so no request sees another's changes.
    """
    cached = keycache.cached(digest)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(_live_key_sql(), [digest])
            row = cursor.fetchone()
        if row is None:
            return None
        n_key = len(ApiKey._meta.concrete_fields)
        read = rows.instance(ApiKey, row[:n_key])
        seller = rows.instance(Seller, row[n_key:]) if read.seller_id is not None else None
        keycache.remember(digest, (read, seller))
        cached = (read, seller, None)
    built, seller, last_used = cached
    key = rows.clone(built)
    if last_used is not None:
        key.last_used_at = last_used
    if key.seller_id is not None:
        ApiKey.seller.field.set_cached_value(key, rows.clone(seller))
    return key


class AdminPrincipal:
    is_authenticated = True

    def __init__(self, key):
        self.key = key

    def __str__(self):
        return f"admin key {self.key.prefix}"


def key_authenticate(*, header):
    """The (principal, key) an `Authorization` header (bytes, as DRF reads it) stands for.

    None when the header is absent or not a Bearer header (the request is anonymous; the permission
    classes answer 401). Raises AuthenticationFailed for a malformed header or an unknown, revoked
    or deactivated key. The principal is the key's seller, or an AdminPrincipal for an admin key.
    The one definition of API-key authentication: ApiKeyAuthentication and the decision
    view (scoring.views.decisions) both call it.
    """
    parts = header.split()
    if not parts or parts[0].lower() != ApiKeyAuthentication.keyword.lower().encode():
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Malformed Authorization header; use 'Bearer <api key>'.")
    try:
        raw = parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("Invalid API key.") from None
    key = live_key_find(digest=key_digest(raw))
    if key is None or (key.seller is not None and not key.seller.is_active):
        raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        keycache.note_used(key.digest, now)
    principal = AdminPrincipal(key) if key.is_admin else key.seller
    return principal, key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        return key_authenticate(header=authentication.get_authorization_header(request))

    def authenticate_header(self, request):
        return self.keyword


class IsSellerKey(permissions.BasePermission):
    message = "This endpoint needs a seller API key."
    can_forbid = True  # an admin key is valid but refused here: 403 (riskhub.schema documents it)

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated(NO_KEY)
        return isinstance(request.auth, ApiKey) and not request.auth.is_admin


class IsAdminKey(permissions.BasePermission):
    message = "This endpoint needs an admin API key."
    can_forbid = True  # a seller key is valid but refused here: 403

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated(NO_KEY)
        return isinstance(request.auth, ApiKey) and request.auth.is_admin
