"""The Django admin for the scoring model: trust with its reasons, policies, reason weights."""

import pytest
from django.contrib.auth.models import User

from blacklist.models import Reason
from scoring.models import SellerPolicy
from scoring.services import seller_trust_recompute


@pytest.fixture
def staff(client, db):
    user = User.objects.create_superuser("ops", "ops@riskhub.example", "pw")
    client.force_login(user)
    return client


def test_admins_see_a_sellers_trust_and_why(staff, seller_a):
    seller_trust_recompute(seller_ids=[seller_a.seller.pk])
    page = staff.get(f"/admin/blacklist/seller/{seller_a.seller.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "0.5" in body
    assert "account is 0 days old (full weight from 180)" in body
    listing = staff.get("/admin/blacklist/seller/")
    assert listing.status_code == 200
    assert "Seller A" in listing.content.decode()


def test_admins_edit_a_sellers_policy_and_inverted_thresholds_are_refused(staff, seller_a):
    url = "/admin/scoring/sellerpolicy/add/"
    form = {
        "seller": seller_a.seller.pk,
        "review_at": 80,
        "no_ship_at": 50,
        "own_flags_block": "on",
        "reason_overrides": "{}",
    }
    refused = staff.post(url, form)
    assert refused.status_code == 200  # the form again, with an error — not a 500
    assert "Must not be above no_ship_at." in refused.content.decode()
    assert not SellerPolicy.objects.exists()
    bad_override = staff.post(url, {**form, "review_at": 30, "reason_overrides": '{"nope": "ignore"}'})
    assert "Unknown reason codes or actions: nope." in bad_override.content.decode()
    accepted = staff.post(url, {**form, "review_at": 30, "reason_overrides": '{"other": "ignore"}'})
    assert accepted.status_code == 302
    policy = SellerPolicy.objects.get(seller=seller_a.seller)
    assert (policy.review_at, policy.no_ship_at, policy.reason_overrides) == (30, 50, {"other": "ignore"})
    assert seller_a.get("/api/v1/policy").json()["reason_overrides"] == {"other": "ignore"}


def test_admins_tune_reason_half_lives_and_maximum_ages(staff, reasons):
    page = staff.get("/admin/blacklist/reason/")
    assert page.status_code == 200
    change = staff.get("/admin/blacklist/reason/extortion/change/")
    assert change.status_code == 200
    reason = Reason.objects.get(code="extortion")
    data = {
        "code": "extortion",
        "label": reason.label,
        "kind": reason.kind,
        "description": reason.description,
        "position": reason.position,
        "weight": 0.6,
        "half_life_days": 500,
        "max_age_days": 1000,
        "condition": "",
        "condition_payment": "",
    }
    assert staff.post("/admin/blacklist/reason/extortion/change/", data).status_code == 302
    reason.refresh_from_db()
    assert (reason.weight, reason.half_life_days, reason.max_age_days) == (0.6, 500, 1000)
