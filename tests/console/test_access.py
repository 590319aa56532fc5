"""Who may open which console page; CSRF; one seller never reaches another seller's data."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from blacklist.services.flags import flag_submit
from blacklist.services.keys import api_key_create
from console.models import Role
from disputes.auth import BuyerPrincipal
from disputes.services.appeals import appeal_create, email_digest
from tests.conftest import ids
from tests.console.conftest import console_client

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/",
    "/console/flag/",
    "/console/flags/",
    "/console/disputes/",
    "/console/policy/",
    "/console/members/",
]


@pytest.mark.parametrize("path", [*PAGES, "/console/keys/"])
def test_it_sends_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/sign-in/")


def test_a_user_of_no_seller_gets_a_clear_403(client, reasons):
    client.force_login(User.objects.create_user("staff", password="x"))
    response = client.get("/console/")
    assert response.status_code == 403
    assert b"belongs to no seller" in response.content


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_for_a_member(user_a, path):
    response = user_a.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_plain_members_cannot_manage_keys_or_members(seller_a):
    member = console_client(seller_a.seller, "clerk@seller-a.test", role=Role.MEMBER)
    assert member.get("/console/keys/").status_code == 403
    assert member.post("/console/members/", {"email": "x@seller-a.test", "role": "owner"}).status_code == 403
    assert not User.objects.filter(username="x@seller-a.test").exists()


def test_every_form_needs_its_csrf_token(seller_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(console_client(seller_a.seller, "csrf@seller-a.test").membership.user)
    for path, body in [
        ("/console/", {"email": "jane@example.com"}),
        ("/console/flag/", {"email": "jane@example.com", "reason": "other", "order_ref": "A-1"}),
        ("/console/policy/", {"review_at": 10, "no_ship_at": 20}),
        ("/console/keys/", {"name": "k"}),
        ("/buyer/", {"email": "jane@example.com"}),
    ]:
        assert client.post(path, body).status_code == 403, path


def _dispute_on(seller, email="jane@example.com", order_ref="A-1"):
    flag, _ = flag_submit(seller=seller, identifiers=ids(email=email), reason="refund_abuse", order_ref=order_ref)
    buyer = BuyerPrincipal(email_digest=email_digest(email), email=email)
    return flag, appeal_create(buyer=buyer, flag_id=flag.pk, statement="I returned the goods.")


def test_a_seller_s_user_never_reaches_another_seller_s_data(seller_a, user_a, user_b):
    flag, dispute = _dispute_on(seller_a.seller)
    key, _ = api_key_create(seller=seller_a.seller, name="shop system")
    other = user_a.membership

    listing = user_b.get("/console/flags/").content.decode()
    assert "A-1" not in listing and seller_a.seller.name not in listing
    assert "A-1" not in user_b.get("/console/disputes/").content.decode()
    assert user_b.get(f"/console/flags/{flag.pk}/retract/").status_code == 404
    assert user_b.post(f"/console/flags/{flag.pk}/retract/", {"confirm": "on"}).status_code == 404
    assert user_b.get(f"/console/disputes/{dispute.pk}/").status_code == 404
    assert user_b.post(f"/console/disputes/{dispute.pk}/", {"response": "mine"}).status_code == 404
    assert user_b.post(f"/console/keys/{key.pk}/revoke/", {"confirm": "on"}).status_code == 404
    assert user_b.post(f"/console/members/{other.pk}/remove/").status_code == 404
    assert "owner@seller-a.test" not in user_b.get("/console/members/").content.decode()
    assert key.prefix not in user_b.get("/console/keys/").content.decode()

    flag.refresh_from_db()
    key.refresh_from_db()
    assert flag.status == "disputed" and key.revoked_at is None
    assert User.objects.filter(pk=other.user_id).exists()
    # ...while its own user sees all of it.
    assert "A-1" in user_a.get("/console/flags/").content.decode()
    assert user_a.get(f"/console/disputes/{dispute.pk}/").status_code == 200


def test_the_check_card_never_names_the_other_sellers(seller_a, seller_b, user_b):
    flag_submit(
        seller=seller_a.seller, identifiers=ids(email="jane@example.com"), reason="extortion", order_ref="SECRET-7"
    )
    from tests.conftest import rescore

    rescore()
    page = user_b.post("/console/", {"email": "jane@example.com"}).content.decode()
    assert "Flagged by 1 seller" in page
    assert seller_a.seller.name not in page and "SECRET-7" not in page
