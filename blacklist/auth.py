"""API key authentication and the seller / admin permissions."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from blacklist.models import ApiKey
from blacklist.services.keys import key_digest

# last_used_at is written at most this often per key, to keep writes off the hot path.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AdminPrincipal:
    is_authenticated = True

    def __init__(self, key):
        self.key = key

    def __str__(self):
        return f"admin key {self.key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header; use 'Bearer <api key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = (
            ApiKey.objects.select_related("seller", "seller__policy")
            .filter(digest=key_digest(raw), revoked_at__isnull=True)
            .first()
        )
        if key is None or (key.seller is not None and not key.seller.is_active):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        principal = AdminPrincipal(key) if key.is_admin else key.seller
        return principal, key

    def authenticate_header(self, request):
        return self.keyword


class IsSellerKey(permissions.BasePermission):
    message = "This endpoint needs a seller API key."

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <api key>'.")
        return isinstance(request.auth, ApiKey) and not request.auth.is_admin


class IsAdminKey(permissions.BasePermission):
    message = "This endpoint needs an admin API key."

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <api key>'.")
        return isinstance(request.auth, ApiKey) and request.auth.is_admin
