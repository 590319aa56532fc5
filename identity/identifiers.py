"""Buyer identifiers: normalisation and keyed digests.

Raw identifiers live only in memory for the length of a request. Everything that is stored,
logged or compared is `digest(kind, normalised value)` = HMAC-SHA-256 under IDENTIFIER_KEY.
Error messages name the field, never the value.
"""

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import models

MAX_IDENTIFIER_LENGTH = 320


class IdentifierKind(models.TextChoices):
    PLATFORM_ID = "platform_id"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    PAYMENT_FINGERPRINT = "payment_fingerprint"


# The kinds as plain strings, in their declared order: read on every flag and decision, where
# iterating the enum each time cost more than normalising an email.
KINDS = tuple(IdentifierKind.values)


class InvalidIdentifier(ValueError):
    """Raised with a message that never contains the offending value."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Identifier:
    kind: str
    digest: str


_EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_PLATFORM_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,31}$")
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "apartment": "apt",
    "building": "bldg",
    "floor": "fl",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "number": "no",
}


def normalise_email(raw):
    value = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not _EMAIL_RE.match(value):
        raise InvalidIdentifier("Enter a valid email address.")
    return value


def normalise_phone(raw, country=None):
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier(
            "Enter a valid phone number (international format, or give `country` as a hint)."
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("Enter a valid phone number (the number is not valid for its region).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_platform_id(raw):
    platform, sep, account = unicodedata.normalize("NFKC", raw).strip().partition(":")
    platform, account = platform.strip().casefold(), account.strip().casefold()
    if not sep or not account or not _PLATFORM_RE.match(platform):
        raise InvalidIdentifier('Use the form "<platform>:<account>", e.g. "shopee:8812734".')
    return f"{platform}:{account}"


def normalise_address(raw):
    text = unicodedata.normalize("NFKC", raw).casefold()
    words = re.sub(r"[^\w]+", " ", text).split()
    if not words:
        raise InvalidIdentifier("Enter a non-empty address.")
    return " ".join(_ADDRESS_WORDS.get(word, word) for word in words)


def normalise_payment_fingerprint(raw):
    value = raw.strip()
    if not value or any(ch.isspace() for ch in value):
        raise InvalidIdentifier("Enter the payment fingerprint as an opaque token without spaces.")
    return value


_NORMALISERS = {
    IdentifierKind.PLATFORM_ID.value: normalise_platform_id,
    IdentifierKind.EMAIL.value: normalise_email,
    IdentifierKind.ADDRESS.value: normalise_address,
    IdentifierKind.PAYMENT_FINGERPRINT.value: normalise_payment_fingerprint,
}
_PHONE = IdentifierKind.PHONE.value  # its normaliser takes the country hint too


def digest(kind, value):
    mac = _keyed(settings.IDENTIFIER_KEY).copy()  # the key's pads hashed once, not per identifier
    mac.update(f"{kind}:{value}".encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key):
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def identifiers_from(buyer, *, country=None):
    """Normalise and digest the identifiers of a validated `buyer` object.

    Returns a list of Identifier; raises InvalidIdentifier naming the field on bad input.
    """
    found = []
    for kind in KINDS:
        raw = buyer.get(kind)
        if raw is None:
            continue
        try:
            value = normalise_phone(raw, country) if kind == _PHONE else _NORMALISERS[kind](raw)
        except InvalidIdentifier as exc:
            raise InvalidIdentifier(str(exc), field=kind) from None
        found.append(Identifier(kind=kind, digest=digest(kind, value)))
    return found


def identifier_digests(term):
    """The digests of `term` read as each kind of identifier it normalises as."""
    term = (term or "").strip()
    digests = []
    if not term:
        return digests
    for kind in KINDS:
        try:
            digests += [i.digest for i in identifiers_from({kind: term})]
        except InvalidIdentifier:
            continue
    return digests


_REDACT_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_REDACT_PHONE = re.compile(r"\+?\d[\d\s().\-]{6,}\d")


def redact(text):
    """Remove email addresses and phone-like numbers from free text (seller notes)."""
    return _REDACT_PHONE.sub("[redacted]", _REDACT_EMAIL.sub("[redacted]", text))
