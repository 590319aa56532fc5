"""Links through the API: decisions over several buyers, contests, severance, accountability."""

import pytest

from blacklist.models import Seller
from disputes.auth import buyer_token_issue
from disputes.services.appeals import email_digest
from identity.models import Identifier, LinkSeverance
from scoring.services import seller_trust_recompute
from tests.conftest import make_persona, rescore

EMAIL, PHONE = "jo.buyer@example.com", "+4915155556666"


def flag(persona, buyer, reason="extortion", ref="R-1"):
    response = persona.post("/api/v1/flags", {"buyer": buyer, "reason": reason, "order_ref": ref})
    assert response.status_code == 201, response.json()
    return response.json()


def decide(persona, buyer):
    response = persona.post("/api/v1/decisions", {"buyer": buyer})
    assert response.status_code == 200
    return response.json()


def buyer_client(email):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {buyer_token_issue(email_digest=email_digest(email), email=email)}")
    return client


@pytest.fixture
def linked(seller_a, seller_b, outsider):
    """EMAIL and PHONE named together by two sellers; a third flags the phone alone."""
    flag(seller_a, {"email": EMAIL, "phone": PHONE}, ref="A-1")
    flag(seller_b, {"email": EMAIL, "phone": PHONE}, ref="B-1")
    flag(outsider, {"phone": PHONE}, reason="non_payment", ref="O-1")
    rescore()


def test_a_decision_over_unlinked_identifiers_counts_each_seller_once(seller_a, seller_b, outsider):
    flag(seller_a, {"email": EMAIL}, ref="A-1")
    flag(seller_a, {"phone": PHONE}, ref="A-2")  # same seller, same reason, another identifier
    flag(seller_b, {"phone": PHONE}, ref="B-1")
    rescore()
    both = decide(outsider, {"email": EMAIL, "phone": PHONE})
    assert both["reporting_sellers"] == 2
    assert both["reasons"][0]["sellers"] == 2
    # Asking links nothing: the email alone still sees only what names it.
    assert decide(outsider, {"email": EMAIL})["reporting_sellers"] == 1
    assert Identifier.objects.values("buyer_id").distinct().count() == 2


def test_the_buyer_contests_a_link_and_an_admin_severs_it_for_good(linked, seller_a, outsider, admin_key):
    assert decide(seller_a, {"email": EMAIL})["reporting_sellers"] == 3
    buyer = buyer_client(EMAIL)
    links = buyer.get("/api/v1/appeals/links").json()["results"]
    assert [link["kind"] for link in links] == ["phone"]
    contest = buyer.post(
        "/api/v1/appeals/links", {"identifier": links[0]["id"], "statement": "Not my number."}, format="json"
    )
    assert contest.status_code == 201
    again = buyer.post("/api/v1/appeals/links", {"identifier": links[0]["id"], "statement": "Again."}, format="json")
    assert again.status_code == 409

    queue = admin_key.get("/api/v1/admin/link-contests", {"status": "open"}).json()["results"]
    assert [c["id"] for c in queue] == [contest.json()["id"]]
    resolved = admin_key.post(f"/api/v1/admin/link-contests/{queue[0]['id']}/resolve", {"outcome": "severed"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "severed"
    rescore()
    assert decide(outsider, {"email": EMAIL})["reporting_sellers"] == 2  # the phone's third seller is gone
    assert buyer.get("/api/v1/appeals/links").json()["results"] == []

    # A third seller asserting the same pair again does not undo the ruling...
    flag(outsider, {"email": EMAIL, "phone": PHONE}, ref="O-2")
    rescore()
    assert decide(seller_a, {"email": EMAIL})["reporting_sellers"] == 3  # a, b, outsider: each names the email
    assert buyer.get("/api/v1/appeals/links").json()["results"] == []
    # ...until an admin restores it.
    phone, email = (Identifier.objects.get(kind=k).pk for k in ("phone", "email"))
    restored = admin_key.post("/api/v1/admin/links", {"a": phone, "b": email, "action": "restore"})
    assert restored.status_code == 200
    rescore()
    assert [link["kind"] for link in buyer.get("/api/v1/appeals/links").json()["results"]] == ["phone"]
    assert LinkSeverance.objects.get().restored_by.startswith("key:")


def test_who_asserted_which_link_is_queryable_and_severed_links_cost_trust(linked, seller_a, seller_b, admin_key):
    phone, email = (Identifier.objects.get(kind=k).pk for k in ("phone", "email"))
    links = admin_key.get("/api/v1/admin/links", {"identifier": email}).json()["results"]
    assert len(links) == 1
    assert links[0]["other"] == phone and links[0]["corroborated"] is True and links[0]["severed"] is False
    assert links[0]["sellers"] == sorted([seller_a.seller.pk, seller_b.seller.pk])
    assert len(links[0]["flags"]) == 2

    seller_trust_recompute()
    before = Seller.objects.get(pk=seller_a.seller.pk).trust
    assert admin_key.post("/api/v1/admin/links", {"a": email, "b": phone, "action": "sever"}).status_code == 200
    seller_trust_recompute()
    after = Seller.objects.get(pk=seller_a.seller.pk)
    assert after.trust < before
    assert after.trust_details["severed"] == 1


def test_link_endpoints_refuse_the_wrong_principal_and_bad_input(linked, seller_a, admin_key, anon):
    assert seller_a.get("/api/v1/admin/links", {"identifier": 1}).status_code == 403
    assert anon.get("/api/v1/appeals/links").status_code == 401
    assert admin_key.get("/api/v1/admin/links", {"identifier": "x"}).status_code == 400
    assert admin_key.post("/api/v1/admin/links", {"a": 1, "b": 1, "action": "sever"}).status_code == 400
    assert admin_key.post("/api/v1/admin/links", {"a": 10**9, "b": 1, "action": "sever"}).status_code == 404
    stranger = buyer_client("stranger@example.com")
    assert stranger.post("/api/v1/appeals/links", {"identifier": 1, "statement": "x"}, format="json").status_code == 404


def test_the_admin_buyer_page_shows_the_identity_graph(linked, admin_client):
    buyer_id = Identifier.objects.get(kind="email").buyer_id
    page = admin_client.get(f"/admin/identity/buyer/{buyer_id}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "corroborated" in text and "Seller A" in text and "Seller B" in text
    found = admin_client.post("/admin/identity/identifier/search/", {"q": EMAIL})
    assert found.status_code == 302 and EMAIL not in found["Location"]
    listing = admin_client.get(found["Location"])
    assert listing.status_code == 200 and "email" in listing.content.decode()


def test_a_persona_outside_the_link_sees_nothing_new(linked, reasons):
    late = make_persona("Late")
    assert decide(late, {"email": EMAIL})["reporting_sellers"] == 3


def test_a_decision_over_several_buyers_is_one_statement(seller_a, seller_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scoring.selectors import decision_for
    from tests.conftest import ids

    flag(seller_a, {"email": EMAIL}, ref="A-1")
    flag(seller_b, {"phone": PHONE}, ref="B-1")
    rescore()
    with CaptureQueriesContext(connection) as queries:
        decision, own, _ = decision_for(seller=seller_a.seller, identifiers=ids(email=EMAIL, phone=PHONE))
    assert len(queries) == 1
    assert decision.reporting_sellers == 2
    assert [f.order_ref for f in own] == ["A-1"]
