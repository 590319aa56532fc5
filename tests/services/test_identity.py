"""Buyer identity: normalisation, keyed digests, linking and merging."""

import hashlib
import hmac

import pytest
from django.test import override_settings

from blacklist.models import Buyer, BuyerIdentifier, BuyerMerge, Flag
from blacklist.services.flags import flag_submit
from blacklist.services.identity import buyer_find, buyer_resolve
from identity.identifiers import (
    InvalidIdentifier,
    digest,
    identifiers_from,
    normalise_address,
    normalise_email,
    normalise_phone,
    normalise_platform_id,
)
from tests.conftest import ids

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


# --- linking ------------------------------------------------------------------------------------


def test_a_phone_in_two_formats_matches_the_same_buyer():
    buyer = buyer_resolve(identifiers=ids(phone="+49 30 1234567"))
    assert buyer_find(identifiers=ids(phone="030 1234567", country="DE")) == [buyer.pk]
    assert buyer_resolve(identifiers=ids(phone="030 1234567", country="DE")).pk == buyer.pk
    assert Buyer.objects.count() == 1
    assert BuyerIdentifier.objects.count() == 1


def test_an_email_in_two_casings_matches_the_same_buyer():
    buyer = buyer_resolve(identifiers=ids(email="Buyer@Example.com"))
    assert buyer_find(identifiers=ids(email="  buyer@EXAMPLE.com ")) == [buyer.pk]
    assert buyer_resolve(identifiers=ids(email="buyer@example.com")).pk == buyer.pk
    assert Buyer.objects.count() == 1


def test_identifiers_sent_together_link_to_one_buyer():
    buyer = buyer_resolve(identifiers=ids(email="linked@example.com", phone="+4915112345678", platform_id="shopee:881"))
    assert BuyerIdentifier.objects.filter(buyer=buyer).count() == 3
    for lookup in (
        ids(email="LINKED@example.com"),
        ids(phone="0151 12345678", country="DE"),
        ids(platform_id="Shopee:881"),
    ):
        assert buyer_find(identifiers=lookup) == [buyer.pk]


def test_a_new_identifier_sent_with_a_known_one_joins_that_buyer():
    buyer = buyer_resolve(identifiers=ids(email="known@example.com"))
    again = buyer_resolve(identifiers=ids(email="known@example.com", payment_fingerprint="fp_join_1"))
    assert again.pk == buyer.pk
    assert buyer_find(identifiers=ids(payment_fingerprint="fp_join_1")) == [buyer.pk]
    assert not BuyerMerge.objects.exists()


def test_unknown_identifiers_find_no_buyer():
    buyer_resolve(identifiers=ids(email="someone@example.com"))
    assert buyer_find(identifiers=ids(email="nobody@example.com")) == []


def test_no_raw_identifier_is_stored():
    buyer_resolve(identifiers=ids(email="Stored.Raw@Example.com", phone="+4915112345678"))
    stored = list(BuyerIdentifier.objects.values_list("digest", "kind"))
    for value, kind in stored:
        assert "raw@example" not in value.casefold()
        assert "15112345678" not in value
        assert kind in {"email", "phone"}


# --- merging ------------------------------------------------------------------------------------


def test_a_flag_linking_two_known_buyers_merges_them(seller_a, seller_b):
    by_email, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="two@example.com"), reason="extortion", order_ref="A-1"
    )
    by_phone, _ = flag_submit(
        seller=seller_b.seller, identifiers=ids(phone="+4915199990000"), reason="card_fraud", order_ref="B-1"
    )
    first, second = by_email.buyer_id, by_phone.buyer_id
    assert first != second

    linking, created = flag_submit(
        seller=seller_b.seller,
        identifiers=ids(email="TWO@example.com", phone="0151 99990000", country="DE"),
        reason="refund_abuse",
        order_ref="B-2",
    )

    assert created
    survivor = min(first, second)
    merged = max(first, second)
    merge = BuyerMerge.objects.get()
    assert (merge.merged_buyer_id, merge.into_id) == (merged, survivor)
    assert merge.identifiers_moved == 1
    assert merge.flags_moved == 1
    assert Buyer.objects.get(pk=merged).merged_into_id == survivor
    assert set(Flag.objects.values_list("buyer_id", flat=True)) == {survivor}
    assert linking.buyer_id == survivor
    assert set(BuyerIdentifier.objects.values_list("buyer_id", flat=True)) == {survivor}
    for lookup in (ids(email="two@example.com"), ids(phone="+4915199990000"), ids(email="two@example.com")):
        assert buyer_find(identifiers=lookup) == [survivor]
    assert Buyer.objects.get(pk=survivor).needs_score_since is not None


def test_a_merge_keeps_one_flag_per_seller_reason_and_order(seller_a):
    """The same seller flagged both halves for the same order: the duplicate stays behind."""
    one, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="half@example.com"), reason="extortion", order_ref="A-9"
    )
    other, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(platform_id="ebay:half"), reason="extortion", order_ref="A-9"
    )
    again, created = flag_submit(
        seller=seller_a.seller,
        identifiers=ids(email="half@example.com", platform_id="ebay:half"),
        reason="extortion",
        order_ref="A-9",
    )
    assert not created
    assert again.pk == one.pk
    assert BuyerMerge.objects.get().flags_moved == 0
    survivor = one.buyer_id
    assert Flag.objects.filter(buyer_id=survivor).count() == 1
    assert buyer_find(identifiers=ids(platform_id="ebay:half")) == [survivor]
    other.refresh_from_db()
    assert other.buyer_id != survivor


def test_resolving_three_known_buyers_merges_them_all():
    buyers = [
        buyer_resolve(identifiers=ids(email="m1@example.com")),
        buyer_resolve(identifiers=ids(email="m2@example.com")),
        buyer_resolve(identifiers=ids(email="m3@example.com")),
    ]
    survivor = buyer_resolve(identifiers=ids(email="m1@example.com", phone="+4915100000001"))
    assert survivor.pk == buyers[0].pk
    survivor = buyer_resolve(
        identifiers=ids(email="m2@example.com", phone="+4915100000001", payment_fingerprint="fp_m3")
    )
    assert survivor.pk == buyers[0].pk
    assert BuyerMerge.objects.count() == 1
    buyer_resolve(identifiers=ids(email="m3@example.com", payment_fingerprint="fp_m3"))
    assert BuyerMerge.objects.count() == 2
    for email in ("m1@example.com", "m2@example.com", "m3@example.com"):
        assert buyer_find(identifiers=ids(email=email)) == [buyers[0].pk]
