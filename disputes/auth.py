"""Buyer tokens: what a buyer gets for a correct one-time code.

A token is `rhb_` + a Fernet-sealed JSON {"d": email digest, "e": email}, valid for
APPEAL_TOKEN_TTL. Sealed, not just signed: it carries the address the outcome mail goes to,
and a token that ends up in a log must not reveal it. Nothing is stored server-side.

Buyer tokens and API keys never stand in for each other: API-key endpoints look keys up by
digest (a token is not one) and these endpoints accept only what they can unseal.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from rest_framework import authentication, exceptions, permissions

from disputes.crypto import InvalidToken, open_sealed, seal

TOKEN_PREFIX = "rhb_"  # noqa: S105 - a marker, not a secret
TOKEN_PURPOSE = "buyer-token"  # noqa: S105 - a key-derivation label


@dataclass(frozen=True)
class BuyerPrincipal:
    """A buyer who proved control of an email address. `email` lives in memory only."""

    email_digest: str
    email: str
    is_authenticated = True

    def __str__(self):
        return f"buyer {self.email_digest[:12]}…"


def buyer_token_issue(*, email_digest, email):
    return TOKEN_PREFIX + seal(TOKEN_PURPOSE, json.dumps({"d": email_digest, "e": email}))


def buyer_token_read(token):
    """The principal a token stands for; raises AuthenticationFailed when it is not a valid, fresh token."""
    if not token.startswith(TOKEN_PREFIX):
        raise exceptions.AuthenticationFailed("This endpoint needs a buyer token from POST /api/v1/appeals/session.")
    try:
        data = json.loads(
            open_sealed(TOKEN_PURPOSE, token[len(TOKEN_PREFIX) :], max_age=settings.APPEAL_TOKEN_TTL.total_seconds())
        )
        return BuyerPrincipal(email_digest=data["d"], email=data["e"])
    except (InvalidToken, ValueError, KeyError, TypeError):
        raise exceptions.AuthenticationFailed("Invalid or expired buyer token; start a new appeal session.") from None


class BuyerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header; use 'Bearer <buyer token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid buyer token.") from None
        principal = buyer_token_read(raw)
        return principal, principal

    def authenticate_header(self, request):
        return self.keyword


class IsBuyerToken(permissions.BasePermission):
    message = "This endpoint needs a buyer token."

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <buyer token>'.")
        return isinstance(request.auth, BuyerPrincipal)
