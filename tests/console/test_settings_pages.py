"""Policy, API keys, members, disputes: the seller's other pages."""

import pytest
from django.contrib.auth.models import User
from django.core import mail

from blacklist.models import ApiKey
from blacklist.services.flags import flag_submit
from blacklist.services.keys import key_digest
from console.models import Membership
from disputes.auth import BuyerPrincipal
from disputes.services.appeals import appeal_create, email_digest
from disputes.services.review import dispute_resolve
from scoring.selectors import policy_of
from tests.conftest import ids

pytestmark = pytest.mark.django_db


def test_policy_is_validated_by_the_api_s_rules(seller_a, user_a):
    bad = user_a.post("/console/policy/", {"review_at": 80, "no_ship_at": 50})
    assert bad.status_code == 400
    assert "review_at" in bad.context["form"].errors
    assert user_a.post("/console/policy/", {"review_at": 101, "no_ship_at": 50}).status_code == 400
    assert (
        user_a.post("/console/policy/", {"review_at": 10, "no_ship_at": 20, "override_other": "zap"}).status_code == 400
    )
    ok = user_a.post(
        "/console/policy/",
        {"review_at": 30, "no_ship_at": 60, "override_other": "ignore", "override_cod_refusal": "review"},
    )
    assert ok.status_code == 302
    policy = policy_of(seller=seller_a.seller)
    assert (policy.review_at, policy.no_ship_at, policy.own_flags_block) == (30, 60, False)
    assert dict(policy.reason_overrides) == {"other": "ignore", "cod_refusal": "review"}
    page = user_a.get("/console/policy/").content.decode()
    assert 'value="30"' in page and '<option value="ignore" selected>' in page


def test_a_new_key_is_shown_once_and_can_be_revoked(seller_a, user_a):
    response = user_a.post("/console/keys/", {"name": "shop system"})
    raw = response.context["new_key"]["raw"]
    key = ApiKey.objects.get(digest=key_digest(raw))
    assert (key.seller, key.name) == (seller_a.seller, "shop system")
    assert raw in response.content.decode()
    assert raw not in user_a.get("/console/keys/").content.decode(), "shown once"
    assert user_a.post(f"/console/keys/{key.pk}/revoke/", {}).status_code == 200
    assert user_a.post(f"/console/keys/{key.pk}/revoke/", {"confirm": "on"}).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert user_a.post("/console/keys/", {"name": ""}).status_code == 400


def test_an_owner_invites_and_removes_members(seller_a, user_a):
    response = user_a.post("/console/members/", {"email": "Clerk@Seller-A.test", "role": "member"})
    assert response.status_code == 302
    clerk = Membership.objects.get(user__username="clerk@seller-a.test")
    assert (clerk.seller, clerk.role) == (seller_a.seller, "member")
    assert len(mail.outbox) == 1 and "/console/password-reset/" in mail.outbox[0].body
    assert seller_a.seller.name in mail.outbox[0].subject
    again = user_a.post("/console/members/", {"email": "clerk@seller-a.test", "role": "member"})
    assert again.status_code == 400
    assert user_a.post(f"/console/members/{user_a.membership.pk}/remove/").status_code == 302
    assert User.objects.filter(pk=user_a.membership.user_id).exists(), "nobody removes themselves"
    assert user_a.post(f"/console/members/{clerk.pk}/remove/").status_code == 302
    assert not User.objects.filter(username="clerk@seller-a.test").exists()


def test_a_seller_answers_a_dispute_with_evidence(seller_a, user_a):
    flag, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="j@example.com"), reason="other", order_ref="D-1"
    )
    buyer = BuyerPrincipal(email_digest=email_digest("j@example.com"), email="j@example.com")
    dispute = appeal_create(buyer=buyer, flag_id=flag.pk, statement="The shop never shipped.")
    listing = user_a.get("/console/disputes/?status=open").content.decode()
    assert "D-1" in listing
    page = user_a.get(f"/console/disputes/{dispute.pk}/")
    assert "The shop never shipped." in page.content.decode()
    assert user_a.post(f"/console/disputes/{dispute.pk}/", {"response": ""}).status_code == 400
    too_many = "\n".join(f"https://t.example/{i}" for i in range(11))
    assert user_a.post(f"/console/disputes/{dispute.pk}/", {"response": "x", "evidence": too_many}).status_code == 400
    done = user_a.post(
        f"/console/disputes/{dispute.pk}/",
        {"response": "Delivered, signed for.", "evidence": "https://tracking.example/AB1\n\nphoto of receipt"},
    )
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert dispute.seller_response == "Delivered, signed for."
    assert dispute.seller_evidence == ["https://tracking.example/AB1", "photo of receipt"]


def test_a_reviewed_dispute_shows_its_outcome_and_takes_no_more_answers(seller_a, user_a):
    flag, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="j@example.com"), reason="other", order_ref="D-2"
    )
    buyer = BuyerPrincipal(email_digest=email_digest("j@example.com"), email="j@example.com")
    dispute = appeal_create(buyer=buyer, flag_id=flag.pk, statement="Never ordered.")
    dispute_resolve(dispute_id=dispute.pk, outcome="overturned", note="No order found.", actor_id="test")
    page = user_a.get(f"/console/disputes/{dispute.pk}/").content.decode()
    assert "Reviewed on" in page and "overturned" in page and "No order found." in page
    late = user_a.post(f"/console/disputes/{dispute.pk}/", {"response": "Too late"})
    assert late.status_code == 409
    assert "already reviewed" in late.content.decode()
