"""Sealing short-lived secrets: the buyer token and the contact address kept for the outcome mail.

Both use Fernet (AES-128-CBC + HMAC-SHA-256, with a timestamp) from `cryptography`, under keys
derived per purpose from CONTACT_ENCRYPTION_KEYS (first one encrypts, all decrypt, so a key can
be rotated), falling back to SECRET_KEY. A buyer token can therefore never be decrypted as a
contact ciphertext, nor the other way round.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "open_sealed", "seal"]


def _fernet(purpose):
    secrets = settings.CONTACT_ENCRYPTION_KEYS or [settings.SECRET_KEY]
    keys = [
        Fernet(base64.urlsafe_b64encode(hmac.new(s.encode(), f"riskhub:{purpose}".encode(), hashlib.sha256).digest()))
        for s in secrets
    ]
    return MultiFernet(keys)


def seal(purpose, plaintext):
    """Encrypt and authenticate `plaintext` (str); returns ASCII text."""
    return _fernet(purpose).encrypt(plaintext.encode()).decode("ascii")


def open_sealed(purpose, token, *, max_age=None):
    """Decrypt what `seal` made; raises InvalidToken if forged, of another purpose or older than max_age (s)."""
    try:
        data = token.encode("ascii")
    except (UnicodeEncodeError, AttributeError):
        raise InvalidToken from None
    return _fernet(purpose).decrypt(data, ttl=None if max_age is None else int(max_age)).decode()
