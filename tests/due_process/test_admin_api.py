"""The admin API (queue, resolve, audit) and the effects of an outcome."""

from datetime import timedelta

from blacklist.models import Flag, FlagStatus
from disputes.models import Dispute
from identity.models import Buyer
from tests.conftest import buyer_id_of, rescore
from tests.due_process.helpers import appeal, buyer_token, flag, open_dispute

EMAIL = "buyer@example.com"


def _decision(persona, email=EMAIL):
    response = persona.post("/api/v1/decisions", {"buyer": {"email": email}})
    assert response.status_code == 200
    return response.json()


def _reason(decision, code):
    return next(r for r in decision["reasons"] if r["code"] == code)


def test_the_queue_lists_disputes_oldest_first_and_filters_by_status(seller_a, seller_b, admin_key, mailoutbox):
    _, first, _ = open_dispute(seller_a, "one@example.com")
    _, second, _ = open_dispute(seller_b, "two@example.com")
    Dispute.objects.filter(pk=second["id"]).update(
        created_at=Dispute.objects.get(pk=first["id"]).created_at - timedelta(hours=1)
    )
    queue = admin_key.get("/api/v1/admin/disputes", {"status": "open"})
    assert queue.status_code == 200
    assert [d["id"] for d in queue.json()["results"]] == [second["id"], first["id"]]
    item = queue.json()["results"][0]
    assert item["flag"]["seller_name"] == "Seller B"
    assert item["statement"]
    admin_key.post(f"/api/v1/admin/disputes/{second['id']}/resolve", {"outcome": "upheld"})
    assert [d["id"] for d in admin_key.get("/api/v1/admin/disputes?status=open").json()["results"]] == [first["id"]]
    assert [d["id"] for d in admin_key.get("/api/v1/admin/disputes?status=upheld").json()["results"]] == [second["id"]]
    assert admin_key.get("/api/v1/admin/disputes?status=bogus").status_code == 400


def test_seller_keys_get_403_on_admin_endpoints(seller_a, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    for response in (
        seller_a.get("/api/v1/admin/disputes"),
        seller_a.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "overturned"}),
        seller_a.get("/api/v1/admin/audit", {"flag": dispute["id"]}),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert Dispute.objects.get().status == "open"


def test_resolve_validates_its_input(seller_a, admin_key, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    url = f"/api/v1/admin/disputes/{dispute['id']}/resolve"
    assert admin_key.post(url, {"outcome": "maybe"}).status_code == 400
    assert admin_key.post(url, {}).status_code == 400
    missing = admin_key.post(
        "/api/v1/admin/disputes/00000000-0000-0000-0000-000000000000/resolve", {"outcome": "upheld"}
    )
    assert missing.status_code == 404


def test_a_dispute_is_resolved_once(seller_a, admin_key, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    url = f"/api/v1/admin/disputes/{dispute['id']}/resolve"
    assert admin_key.post(url, {"outcome": "overturned", "note": "n"}).status_code == 200
    again = admin_key.post(url, {"outcome": "upheld"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "dispute_closed"


def test_a_disputed_flag_still_counts_and_the_decision_shows_it_is_disputed(seller_a, seller_b, outsider, mailoutbox):
    mine = flag(seller_a, email=EMAIL, reason="extortion", order_ref="A-1")
    flag(seller_b, email=EMAIL, reason="extortion", order_ref="B-1")
    rescore()
    before = _decision(outsider)
    assert _reason(before, "extortion")["disputed"] == 0
    token = buyer_token(EMAIL)
    assert appeal(token, mine["id"]).status_code == 201
    rescore()
    during = _decision(outsider)
    extortion = _reason(during, "extortion")
    assert extortion["sellers"] == 2
    assert extortion["disputed"] == 1
    assert during["score"] == before["score"]
    assert "under dispute" in during["explanation"]


def test_an_overturned_flag_stops_counting_and_its_seller_sees_it(
    seller_a, seller_b, outsider, admin_key, mailoutbox, django_capture_on_commit_callbacks
):
    mine = flag(seller_a, email=EMAIL, reason="extortion", order_ref="A-1")
    flag(seller_b, email=EMAIL, reason="extortion", order_ref="B-1")
    token = buyer_token(EMAIL)
    dispute = appeal(token, mine["id"]).json()
    rescore()
    before = _decision(outsider)
    with django_capture_on_commit_callbacks() as on_commit:
        response = admin_key.post(
            f"/api/v1/admin/disputes/{dispute['id']}/resolve",
            {"outcome": "overturned", "note": "The seller could not fill the order."},
        )
    assert response.status_code == 200
    assert response.json()["status"] == "overturned"
    assert response.json()["flag"]["status"] == "overturned"
    # The rescore is requested in the same transaction as the overturn (then enqueued on commit).
    assert Buyer.objects.get(pk=buyer_id_of(Flag.objects.get(pk=mine["id"]))).needs_score_since is not None
    for callback in on_commit:
        callback()
    rescore()
    after = _decision(outsider)
    assert _reason(after, "extortion")["sellers"] == 1
    assert _reason(after, "extortion")["disputed"] == 0
    assert after["score"] < before["score"]
    own = seller_a.get("/api/v1/flags").json()["results"]
    assert [(f["id"], f["status"]) for f in own] == [(mine["id"], "overturned")]
    outcome = mailoutbox[-1]
    assert outcome.to == [EMAIL]
    assert "overturned" in outcome.body
    assert "The seller could not fill the order." in outcome.body
    row = Dispute.objects.get()
    assert row.contact_encrypted == ""  # the address is forgotten once the outcome is sent
    assert row.outcome_notified_at is not None


def test_an_upheld_flag_counts_again_and_the_buyer_is_told(
    seller_a, outsider, admin_key, mailoutbox, django_capture_on_commit_callbacks
):
    flagged, dispute, _ = open_dispute(seller_a, EMAIL, reason="card_fraud")
    with django_capture_on_commit_callbacks(execute=True):
        admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "upheld", "note": "Proven."})
    assert Flag.objects.get(pk=flagged["id"]).status == FlagStatus.UPHELD
    rescore()
    assert _reason(_decision(outsider), "card_fraud")["sellers"] == 1
    assert "upheld" in mailoutbox[-1].body


def test_the_audit_trail_of_a_flag(seller_a, admin_key, mailoutbox):
    flagged, dispute, _ = open_dispute(seller_a, EMAIL)
    seller_a.post(f"/api/v1/disputes/{dispute['id']}/response", {"response": "We shipped it."})
    admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "overturned", "note": "x"})
    response = admin_key.get("/api/v1/admin/audit", {"flag": flagged["id"]})
    assert response.status_code == 200
    events = response.json()["results"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor_type"]) for e in events] == [
        ("created", "", "active", "seller"),
        ("dispute", "active", "disputed", "buyer"),
        ("seller_response", "disputed", "disputed", "seller"),
        ("overturn", "disputed", "overturned", "admin"),
    ]
    assert all(e["created_at"] for e in events)
    assert events[-1]["actor_id"].startswith("key:")
    assert events[-1]["note"] == f"dispute {dispute['id']}"
    assert admin_key.get("/api/v1/admin/audit").status_code == 400
    assert admin_key.get("/api/v1/admin/audit", {"flag": "nope"}).status_code == 400
