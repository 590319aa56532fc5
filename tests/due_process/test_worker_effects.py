"""End to end on the real stack: an overturn reaches another seller's decision through the Celery worker."""

import pytest
from rest_framework.test import APIClient

from blacklist.services.keys import api_key_create
from disputes.models import Dispute
from identity.models import Buyer
from scoring.models import BuyerScore
from tests.conftest import make_persona, real_stack
from tests.due_process.helpers import appeal, buyer_token
from tests.stack import wait_for

pytestmark = [pytest.mark.integration, real_stack]

EMAIL = "contested@example.com"


def _decision(persona):
    response = persona.post("/api/v1/decisions", {"buyer": {"email": EMAIL}})
    assert response.status_code == 200
    return response.json()


def test_an_overturn_changes_another_sellers_decision_through_the_worker(celery_worker, live_reasons, mailoutbox):
    a, b, other = make_persona("Seller A"), make_persona("Seller B"), make_persona("Other shop")
    flags = {}
    for persona, ref in ((a, "A-1"), (b, "B-1")):
        response = persona.post("/api/v1/flags", {"buyer": {"email": EMAIL}, "reason": "extortion", "order_ref": ref})
        assert response.status_code == 201
        flags[ref] = response.json()["id"]
    buyer = Buyer.objects.get()
    wait_for(lambda: BuyerScore.objects.filter(buyer=buyer, reporting_sellers=2).exists(), message="the first score")
    before = _decision(other)
    assert before["reporting_sellers"] == 2

    # The buyer contests seller A's flag: it keeps counting, the decision shows the dispute.
    dispute = appeal(buyer_token(EMAIL), flags["A-1"]).json()
    assert mailoutbox[-1].to == [a.seller.contact_email]  # the seller's notice, sent on commit
    wait_for(lambda: _decision(other)["reasons"][0]["disputed"] == 1, message="the dispute in the decision")
    assert _decision(other)["reporting_sellers"] == 2

    # An admin overturns it through the API: the worker rescores and the flag stops counting.
    _, raw = api_key_create(is_admin=True, name="reviewer")
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = admin.post(
        f"/api/v1/admin/disputes/{dispute['id']}/resolve",
        {"outcome": "overturned", "note": "The seller could not fill the order."},
        format="json",
    )
    assert response.status_code == 200
    after = wait_for(
        lambda: (d := _decision(other))["reporting_sellers"] == 1 and d, message="the overturn to reach the decision"
    )
    assert after["score"] < before["score"]
    assert after["reasons"][0]["disputed"] == 0
    assert mailoutbox[-1].to == [EMAIL]  # the buyer's outcome, sent on commit
    assert "overturned" in mailoutbox[-1].body
    assert Dispute.objects.get().contact_encrypted == ""
    own = a.get("/api/v1/flags").json()["results"]
    assert [f["status"] for f in own] == ["overturned"]
