"""Flag a buyer, list my flags, retract one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blacklist.models import Flag
from blacklist.services.flags import flag_submit
from tests.conftest import ids

pytestmark = pytest.mark.django_db


def test_it_flags_a_buyer_through_the_service(seller_a, user_a):
    body = {
        "email": "jane@example.com",
        "phone": "030 1234567",
        "country": "DE",
        "reason": "refund_abuse",
        "order_ref": "A-77",
        "occurred_on": (timezone.now() - timedelta(days=3)).date().isoformat(),
        "note": "Call me on +49 170 1234567",
    }
    response = user_a.post("/console/flag/", body)
    assert response.status_code == 302 and response["Location"] == "/console/flags/"
    flag = Flag.objects.get(seller=seller_a.seller)
    assert (flag.reason_id, flag.order_ref, flag.status) == ("refund_abuse", "A-77", "active")
    assert flag.occurred_at.date() == (timezone.now() - timedelta(days=3)).date()
    assert "[redacted]" in flag.note
    again = user_a.post("/console/flag/", body, follow=True)
    assert "already flagged" in again.content.decode()
    assert Flag.objects.filter(seller=seller_a.seller).count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"reason": "bad_vibes"}, "reason"),
        ({"order_ref": ""}, "order_ref"),
        ({"order_ref": "x" * 65}, "order_ref"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"email": "not-an-email"}, "email"),
        ({"note": "n" * 1001}, "note"),
    ],
)
def test_it_rejects_bad_flags_with_form_errors(user_a, change, field):
    body = {"email": "jane@example.com", "reason": "other", "order_ref": "A-1", **change}
    response = user_a.post("/console/flag/", body)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Flag.objects.exists()


def test_my_flags_filters_and_paginates(seller_a, user_a):
    for i in range(30):
        flag_submit(
            seller=seller_a.seller, identifiers=ids(email=f"b{i}@example.com"), reason="other", order_ref=f"O-{i}"
        )
    flag_submit(seller=seller_a.seller, identifiers=ids(email="x@example.com"), reason="extortion", order_ref="E-1")
    first = user_a.get("/console/flags/")
    assert len(first.context["page"].object_list) == 25
    assert "E-1" in first.content.decode(), "newest first"
    second = user_a.get("/console/flags/?page=2")
    assert len(second.context["page"].object_list) == 6
    only = user_a.get("/console/flags/?reason=extortion")
    assert [f.order_ref for f in only.context["page"].object_list] == ["E-1"]
    assert user_a.get("/console/flags/?status=nonsense&page=zzz").status_code == 200


def test_retract_asks_for_confirmation_first(seller_a, user_a):
    flag, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="j@example.com"), reason="other", order_ref="R-1"
    )
    page = user_a.get(f"/console/flags/{flag.pk}/retract/")
    assert page.status_code == 200 and "Retract this flag?" in page.content.decode()
    assert user_a.post(f"/console/flags/{flag.pk}/retract/", {}).status_code == 200
    flag.refresh_from_db()
    assert flag.status == "active", "no confirmation, no retraction"
    done = user_a.post(f"/console/flags/{flag.pk}/retract/", {"confirm": "on"})
    assert done.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "retracted"
