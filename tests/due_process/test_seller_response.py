"""The seller's side of a dispute: notice, listing, answer."""

from datetime import timedelta

from blacklist.models import AuditEvent
from disputes.models import Dispute
from disputes.services.notices import notices_send_pending
from tests.due_process.helpers import appeal, buyer_token, flag, open_dispute

EMAIL = "buyer@example.com"


def test_the_flags_seller_is_mailed_when_its_flag_is_disputed(seller_a, mailoutbox, django_capture_on_commit_callbacks):
    flagged = flag(seller_a, email=EMAIL, order_ref="A-55")
    token = buyer_token(EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        response = appeal(token, flagged["id"], statement="The seller cancelled my order.")
    assert response.status_code == 201
    notice = mailoutbox[-1]
    assert notice.to == [seller_a.seller.contact_email]
    assert "A-55" in notice.subject
    assert "The seller cancelled my order." in notice.body
    assert f"/api/v1/disputes/{response.json()['id']}/response" in notice.body
    assert Dispute.objects.get().seller_notified_at is not None


def test_a_seller_without_an_address_sees_the_dispute_through_the_api(
    seller_a, mailoutbox, django_capture_on_commit_callbacks
):
    seller_a.seller.contact_email = ""
    seller_a.seller.save()
    flagged = flag(seller_a, email=EMAIL)
    token = buyer_token(EMAIL)
    sent = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        dispute = appeal(token, flagged["id"], statement="Not me.").json()
    assert len(mailoutbox) == sent
    listed = seller_a.get("/api/v1/disputes").json()["results"]
    assert [d["id"] for d in listed] == [dispute["id"]]
    assert listed[0]["statement"] == "Not me."
    assert listed[0]["flag"]["id"] == flagged["id"]
    assert listed[0]["status"] == "open"


def test_a_failed_notice_is_retried_by_the_pending_job(seller_a, mailoutbox, settings):
    _, dispute, _ = open_dispute(seller_a, EMAIL)  # on-commit callbacks never ran: no notice yet
    assert Dispute.objects.get().seller_notified_at is None
    assert notices_send_pending() == 0  # too fresh: the on-commit send is presumably under way
    Dispute.objects.update(created_at=Dispute.objects.get().created_at - timedelta(minutes=5))
    assert notices_send_pending() == 1
    assert mailoutbox[-1].to == [seller_a.seller.contact_email]
    assert Dispute.objects.get().seller_notified_at is not None


def test_other_sellers_never_see_a_dispute(seller_a, seller_b, outsider, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    for other in (seller_b, outsider):
        assert other.get("/api/v1/disputes").json()["results"] == []
        response = other.post(f"/api/v1/disputes/{dispute['id']}/response", {"response": "mine"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_the_seller_answers_with_evidence_before_review(seller_a, mailoutbox):
    flagged, dispute, _ = open_dispute(seller_a, EMAIL)
    response = seller_a.post(
        f"/api/v1/disputes/{dispute['id']}/response",
        {
            "response": "Delivered and signed for; the buyer wrote from buyer@example.com to threaten us.",
            "evidence": ["https://tracking.example/parcels/123456789", "Courier note: left with neighbour"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["response"].startswith("Delivered and signed for")
    assert "buyer@example.com" not in body["response"]
    assert body["evidence"][0] == "https://tracking.example/parcels/123456789"
    assert body["responded_at"]
    event = AuditEvent.objects.filter(flag_id=flagged["id"], action="seller_response").get()
    assert event.actor_type == "seller"
    assert event.actor_id == str(seller_a.seller.pk)


def test_the_seller_cannot_answer_after_review(seller_a, admin_key, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "upheld"})
    response = seller_a.post(f"/api/v1/disputes/{dispute['id']}/response", {"response": "late"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "dispute_closed"


def test_a_response_is_validated(seller_a, mailoutbox):
    _, dispute, _ = open_dispute(seller_a, EMAIL)
    url = f"/api/v1/disputes/{dispute['id']}/response"
    assert seller_a.post(url, {}).status_code == 400
    assert seller_a.post(url, {"response": "x" * 4001}).status_code == 400
    assert seller_a.post(url, {"response": "ok", "evidence": ["e"] * 11}).status_code == 400
    bad = seller_a.post(url, {"response": "ok", "extra": 1})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == {"extra": ["Unknown field."]}


def test_disputes_need_a_seller_key(admin_key, anon):
    assert anon.get("/api/v1/disputes").status_code == 401
    assert admin_key.get("/api/v1/disputes").status_code == 403
