"""Buyer identifiers: normalisation and keyed digests (links: test_links.py)."""

import hashlib
import hmac

import pytest
from django.test import override_settings

from identity.identifiers import (
    InvalidIdentifier,
    digest,
    identifiers_from,
    normalise_address,
    normalise_email,
    normalise_phone,
    normalise_platform_id,
)

pytestmark = pytest.mark.django_db


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country"),
    [("+49 30 1234567", None), ("030 1234567", "DE"), ("(030) 123-4567", "DE"), ("+49-30-123 45 67", "FR")],
)
def test_it_normalises_phones_to_e164(raw, country):
    assert normalise_phone(raw, country) == "+49301234567"


@pytest.mark.parametrize("raw", ["Buyer@Example.com", "  buyer@example.COM\t", "BUYER@EXAMPLE.COM"])
def test_it_casefolds_and_trims_emails(raw):
    assert normalise_email(raw) == "buyer@example.com"


def test_it_normalises_platform_ids():
    assert normalise_platform_id(" Shopee : 8812734 ") == "shopee:8812734"


def test_it_normalises_addresses():
    assert normalise_address("12, Baker Street;  LONDON") == normalise_address("12 baker st london")


@pytest.mark.parametrize(
    ("normalise", "raw"),
    [
        (normalise_email, "not-an-email-7731"),
        (lambda raw: normalise_phone(raw, None), "0301234567"),
        (lambda raw: normalise_phone(raw, "DE"), "12"),
        (normalise_platform_id, "shopee-8812734"),
        (normalise_address, " ,;. "),
    ],
)
def test_it_rejects_bad_identifiers_without_echoing_them(normalise, raw):
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalise(raw)
    assert raw.strip() not in str(excinfo.value)


# --- digests ------------------------------------------------------------------------------------


def test_digests_are_hmac_sha256_under_the_identifier_key(settings):
    expected = hmac.new(settings.IDENTIFIER_KEY.encode(), b"email:buyer@example.com", hashlib.sha256).hexdigest()
    assert digest("email", "buyer@example.com") == expected
    with override_settings(IDENTIFIER_KEY="another-key"):
        assert digest("email", "buyer@example.com") != expected


def test_digests_differ_per_kind_for_the_same_value():
    kinds = ["platform_id", "email", "phone", "address", "payment_fingerprint"]
    digests = {digest(kind, "shopee:8812734") for kind in kinds}
    assert len(digests) == len(kinds)


def test_identifiers_carry_digests_only():
    found = identifiers_from({"email": "Buyer@Example.com", "phone": "030 1234567"}, country="DE")
    assert {i.kind for i in found} == {"email", "phone"}
    for identifier in found:
        assert len(identifier.digest) == 64
        assert "example" not in identifier.digest
        assert "1234567" not in identifier.digest
