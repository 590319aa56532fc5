"""The review queue in the Django admin, driven with the test client."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from blacklist.models import Flag, FlagStatus
from disputes.models import Dispute
from tests.due_process.helpers import flag, open_dispute

EMAIL = "buyer@example.com"
QUEUE = "/admin/disputes/dispute/"


def _admin(username):
    user = get_user_model().objects.create_superuser(username=username, email=f"{username}@staff.example")
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def alice(db):
    return _admin("alice")


@pytest.fixture
def bob(db):
    return _admin("bob")


def _page(dispute_id):
    return f"{QUEUE}{dispute_id}/change/"


def _review(client, dispute_id, step, note=""):
    return client.post(f"{QUEUE}{dispute_id}/review/", {"step": step, "note": note})


def _action(client, action, ids, **extra):
    return client.post(QUEUE, {"action": action, "_selected_action": [str(i) for i in ids], **extra})


def test_the_queue_loads_oldest_first_with_its_filters(seller_a, seller_b, alice, mailoutbox):
    _, newer, _ = open_dispute(seller_a, "one@example.com", order_ref="A-NEW")
    _, older, _ = open_dispute(seller_b, "two@example.com", order_ref="B-OLD", reason="extortion")
    Dispute.objects.filter(pk=older["id"]).update(
        created_at=Dispute.objects.get(pk=newer["id"]).created_at - timedelta(days=3)
    )
    _, client = alice
    page = client.get(QUEUE)
    assert page.status_code == 200
    ids = [str(d.pk) for d in page.context["cl"].result_list]
    assert ids == [older["id"], newer["id"]]
    for query, expected in (
        ({"status__exact": "open"}, {older["id"], newer["id"]}),
        ({"flag__reason__code__exact": "extortion"}, {older["id"]}),
        ({"age": "1d"}, {newer["id"]}),
        ({"age": "1-7d"}, {older["id"]}),
        ({"age": "7d+"}, set()),
        ({"claim": "free"}, {older["id"], newer["id"]}),
    ):
        filtered = client.get(QUEUE, query)
        assert filtered.status_code == 200, query
        assert {str(d.pk) for d in filtered.context["cl"].result_list} == expected, query


def test_search_by_a_buyer_identifier_finds_the_dispute(seller_a, alice, mailoutbox):
    _, mine, _ = open_dispute(seller_a, "Jane.Doe@Example.com", order_ref="A-1", phone="+4915112345678")
    _, theirs, _ = open_dispute(seller_a, "other@example.com", order_ref="A-2")
    _, client = alice
    for term in ("  jane.doe@example.COM ", "+49 151 12345678"):
        found = client.get(QUEUE, {"q": term})
        assert found.status_code == 200
        assert [str(d.pk) for d in found.context["cl"].result_list] == [mine["id"]], term
    assert [str(d.pk) for d in client.get(QUEUE, {"q": "A-2"}).context["cl"].result_list] == [theirs["id"]]
    assert [str(d.pk) for d in client.get(QUEUE, {"q": mine["id"]}).context["cl"].result_list] == [mine["id"]]
    assert list(client.get(QUEUE, {"q": "nobody@example.com"}).context["cl"].result_list) == []


def test_the_search_box_never_puts_an_identifier_in_a_url(seller_a, alice, mailoutbox):
    _, mine, _ = open_dispute(seller_a, "Jane.Doe@Example.com", order_ref="A-1")
    _, theirs, _ = open_dispute(seller_a, "other@example.com", order_ref="A-2")
    _, client = alice
    page = client.get(QUEUE).content.decode()
    assert 'id="changelist-search" method="post"' in page
    for term, expected in (
        ("jane.doe@example.com", [mine["id"]]),
        ("A-2", [theirs["id"]]),
        (theirs["id"], [theirs["id"]]),
        ("nobody@example.com", []),
    ):
        response = client.post(f"{QUEUE}search/", {"q": term})
        assert response.status_code == 302
        location = response["Location"]
        assert "example.com" not in location.lower() and "jane" not in location.lower()
        found = client.get(location)
        assert [str(d.pk) for d in found.context["cl"].result_list] == expected, term


def test_the_dispute_page_shows_everything_a_reviewer_needs(seller_a, seller_b, admin_key, alice, mailoutbox):
    # Seller A's history: one dispute overturned before, one upheld.
    for n, outcome in enumerate(("overturned", "upheld")):
        _, old, _ = open_dispute(seller_a, f"past{n}@example.com", order_ref=f"P-{n}")
        admin_key.post(f"/api/v1/admin/disputes/{old['id']}/resolve", {"outcome": outcome})
    flag(seller_b, email=EMAIL, reason="extortion", order_ref="B-OTHER")
    _, dispute, _ = open_dispute(
        seller_a,
        EMAIL,
        order_ref="A-NOW",
        note="Asked for a refund three times.",
    )
    seller_a.post(f"/api/v1/disputes/{dispute['id']}/response", {"response": "Tracking shows delivery."})
    _, client = alice
    page = client.get(_page(dispute["id"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "I never received the parcel; the seller cancelled." in html  # the buyer's statement
    assert "Asked for a refund three times." in html  # the seller's note
    assert "Tracking shows delivery." in html  # the seller's response
    assert "A-NOW" in html and "Seller A" in html
    assert "50% of reviewed disputes" in html  # the seller's overturn rate
    assert "B-OTHER" in html and "Seller B" in html  # the buyer's other flags
    assert 'value="overturned"' in html and 'value="claim"' in html


def test_uphold_and_overturn_actions_go_through_the_services(seller_a, alice, mailoutbox):
    f1, d1, _ = open_dispute(seller_a, "one@example.com", order_ref="A-1")
    f2, d2, _ = open_dispute(seller_a, "two@example.com", order_ref="A-2")
    f3, d3, _ = open_dispute(seller_a, "three@example.com", order_ref="A-3")
    _, client = alice
    ask = _action(client, "overturn_selected", [d1["id"], d2["id"]])
    assert ask.status_code == 200
    assert b"Overturn disputes" in ask.content and b'name="note"' in ask.content
    assert Dispute.objects.filter(status="open").count() == 3  # nothing happens before the note is confirmed
    done = _action(client, "overturn_selected", [d1["id"], d2["id"]], confirm="yes", note="Seller cancelled.")
    assert done.status_code == 302
    done = _action(client, "uphold_selected", [d3["id"]], confirm="yes", note="Proven.")
    assert done.status_code == 302
    statuses = dict(Flag.objects.values_list("order_ref", "status"))
    assert statuses == {"A-1": FlagStatus.OVERTURNED, "A-2": FlagStatus.OVERTURNED, "A-3": FlagStatus.UPHELD}
    resolved = Dispute.objects.get(pk=d1["id"])
    assert resolved.status == "overturned"
    assert resolved.resolution_note == "Seller cancelled."
    assert resolved.resolved_by == f"user:{alice[0].pk}"


def test_the_buttons_on_the_dispute_page(seller_a, alice, mailoutbox):
    flagged, dispute, _ = open_dispute(seller_a, EMAIL)
    _, client = alice
    assert _review(client, dispute["id"], "claim").status_code == 302
    assert Dispute.objects.get().claimed_by == alice[0]
    assert b"You hold the claim" in client.get(_page(dispute["id"])).content
    response = _review(client, dispute["id"], "overturned", note="Not the buyer's fault.")
    assert response.status_code == 302
    assert Flag.objects.get(pk=flagged["id"]).status == FlagStatus.OVERTURNED
    assert Dispute.objects.get().claimed_by is None
    assert b"Already overturned" in client.get(_page(dispute["id"])).content
    assert client.get(f"{QUEUE}{dispute['id']}/review/").status_code == 405


def test_a_claim_keeps_a_second_admin_off_the_dispute(seller_a, alice, bob, mailoutbox):
    flagged, dispute, _ = open_dispute(seller_a, EMAIL)
    _, alice_client = alice
    _, bob_client = bob
    _action(alice_client, "claim_selected", [dispute["id"]])
    assert Dispute.objects.get().claimed_by == alice[0]

    page = bob_client.get(_page(dispute["id"])).content.decode()
    assert "Claimed by alice" in page
    assert 'value="overturned"' not in page  # no buttons for bob
    _review(bob_client, dispute["id"], "claim")
    _review(bob_client, dispute["id"], "overturned")
    _action(bob_client, "overturn_selected", [dispute["id"]], confirm="yes", note="bob")
    _action(bob_client, "release_selected", [dispute["id"]])
    row = Dispute.objects.get()
    assert (row.status, row.claimed_by) == ("open", alice[0])
    assert Flag.objects.get(pk=flagged["id"]).status == FlagStatus.DISPUTED
    messages = [str(m) for m in bob_client.get(QUEUE).context["messages"]]
    assert messages and all("Claimed by alice" in m for m in messages)
    assert [str(d.pk) for d in bob_client.get(QUEUE, {"claim": "others"}).context["cl"].result_list] == [dispute["id"]]


def test_a_claim_lapses_after_an_hour_idle(seller_a, alice, bob, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    _, alice_client = alice
    _, bob_client = bob
    _review(alice_client, dispute["id"], "claim")
    Dispute.objects.update(claimed_at=Dispute.objects.get().claimed_at - timedelta(minutes=30))
    alice_client.get(_page(dispute["id"]))  # activity renews the claim
    _review(bob_client, dispute["id"], "claim")
    assert Dispute.objects.get().claimed_by == alice[0]
    Dispute.objects.update(claimed_at=Dispute.objects.get().claimed_at - timedelta(minutes=61))
    _review(bob_client, dispute["id"], "claim")
    assert Dispute.objects.get().claimed_by == bob[0]


def test_a_claimed_dispute_cannot_be_resolved_through_the_api_either(seller_a, admin_key, alice, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    _review(alice[1], dispute["id"], "claim")
    response = admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "overturned"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "dispute_claimed"


def test_staff_without_the_review_permission_cannot_act(seller_a, mailoutbox):
    from django.contrib.auth.models import Permission

    _, dispute, _ = open_dispute(seller_a, EMAIL)
    user = get_user_model().objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dispute"))
    client = Client()
    client.force_login(user)
    assert client.get(QUEUE).status_code == 200
    assert client.get(_page(dispute["id"])).status_code == 200
    assert _review(client, dispute["id"], "overturned").status_code == 403
    _action(client, "overturn_selected", [dispute["id"]], confirm="yes")
    assert Dispute.objects.get().status == "open"
