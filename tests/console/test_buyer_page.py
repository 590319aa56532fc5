"""The buyer's page: a code by email, the flags in plain words, an appeal."""

import re

import pytest
from django.core import mail
from django.test import Client

from blacklist.services.flags import flag_submit
from disputes.models import Dispute
from tests.conftest import ids, rescore

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("codes_mailed_in_process")]

JANE = "jane@example.com"


def _signed_in_buyer(email=JANE):
    client = Client()
    page = client.post("/buyer/", {"email": email})
    assert page.status_code == 200 and "Check your email" in page.content.decode()
    code = re.search(r"code: (\d+)", mail.outbox[-1].body).group(1)
    response = client.post("/buyer/code/", {"email": email, "code": code})
    assert response.status_code == 302 and response["Location"] == "/buyer/flags/"
    cookie = response.cookies["rh_buyer"]
    assert cookie["httponly"] and cookie["path"] == "/buyer/" and cookie["samesite"] == "Lax"
    return client


def test_a_buyer_sees_the_flags_and_contests_one(seller_a, seller_b):
    mine, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email=JANE), reason="refund_abuse", order_ref="A-1001"
    )
    flag_submit(seller=seller_b.seller, identifiers=ids(email=JANE), reason="extortion", order_ref="B-9")
    client = _signed_in_buyer()

    page = client.get("/buyer/flags/").content.decode()
    assert "Frequent returns or refund requests without valid cause" in page and "A-1001" in page
    assert "Malicious threats or extortion" in page
    assert seller_a.seller.name not in page and seller_b.seller.name not in page
    assert "What happens when you contest a report" in page

    assert client.post(f"/buyer/flags/{mine.pk}/contest/", {"statement": ""}).status_code == 400
    done = client.post(
        f"/buyer/flags/{mine.pk}/contest/", {"statement": "I sent the goods back, tracked."}, follow=True
    )
    assert "Your appeal was received" in done.content.decode()
    assert Dispute.objects.get(flag=mine).status == "open"
    assert "You contested it." in client.get("/buyer/flags/").content.decode()
    second = client.post(f"/buyer/flags/{mine.pk}/contest/", {"statement": "again"})
    assert second.status_code == 409 and "cannot be contested right now" in second.content.decode()


def test_the_answer_is_the_same_for_unknown_addresses(reasons):
    page = Client().post("/buyer/", {"email": "nobody@example.com"})
    assert page.status_code == 200 and "Check your email" in page.content.decode()
    assert mail.outbox == []


def test_a_wrong_code_or_bad_email_is_a_clear_error(seller_a):
    flag_submit(seller=seller_a.seller, identifiers=ids(email=JANE), reason="other", order_ref="A-1")
    client = Client()
    assert client.post("/buyer/", {"email": "not-an-email"}).status_code == 400
    client.post("/buyer/", {"email": JANE})
    wrong = client.post("/buyer/code/", {"email": JANE, "code": "00000000"})
    assert wrong.status_code == 400 and "wrong, used up or expired" in wrong.content.decode()
    assert "rh_buyer" not in wrong.cookies


def test_without_a_valid_token_the_flags_page_sends_the_buyer_back(reasons):
    client = Client()
    assert client.get("/buyer/flags/")["Location"] == "/buyer/"
    client.cookies["rh_buyer"] = "rhb_forged"
    assert client.get("/buyer/flags/")["Location"] == "/buyer/"


def test_another_buyer_s_flag_cannot_be_contested(seller_a):
    other, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="someone@example.com"), reason="other", order_ref="Z"
    )
    flag_submit(seller=seller_a.seller, identifiers=ids(email=JANE), reason="other", order_ref="A-1")
    client = _signed_in_buyer()
    assert client.get(f"/buyer/flags/{other.pk}/contest/").status_code == 404
    assert client.post(f"/buyer/flags/{other.pk}/contest/", {"statement": "x"}).status_code == 404


def test_too_many_code_requests_answer_429(settings, seller_a):
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_ip": "2/hour"}
    client = Client()
    for _ in range(2):
        assert client.post("/buyer/", {"email": JANE}).status_code == 200
    limited = client.post("/buyer/", {"email": JANE})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert "Too many requests" in limited.content.decode()


def test_a_flag_reached_through_a_link_shows_how_but_not_its_order_reference(seller_a, seller_b, outsider):
    phone = "+4915112345678"
    flag_submit(seller=seller_a.seller, identifiers=ids(email=JANE, phone=phone), reason="other", order_ref="A-7")
    flag_submit(seller=outsider.seller, identifiers=ids(email=JANE, phone=phone), reason="other", order_ref="O-1")
    flag_submit(seller=seller_b.seller, identifiers=ids(phone=phone), reason="extortion", order_ref="B-9")
    rescore()  # two sellers link the email and the phone: the phone-only flag reaches the email

    page = _signed_in_buyer().get("/buyer/flags/").content.decode()
    assert "Malicious threats or extortion" in page
    assert "names a phone number that several shops independently linked" in page
    assert "B-9" not in page, "a linked flag's order reference belongs to someone else's transaction"
    assert "A-7" in page and "O-1" in page


def test_a_buyer_says_a_linked_phone_is_not_theirs(seller_a, seller_b, outsider):
    from disputes.models import LinkContest
    from identity.models import Identifier

    for persona, ref in ((seller_a, "A-1"), (seller_b, "B-1")):
        flag_submit(
            seller=persona.seller, identifiers=ids(email=JANE, phone="+4915122223333"), reason="other", order_ref=ref
        )
    flag_submit(seller=outsider.seller, identifiers=ids(phone="+4915122223333"), reason="extortion", order_ref="O-1")
    rescore()
    client = _signed_in_buyer()
    page = client.get("/buyer/flags/").content.decode()
    assert "Linked to your email address" in page and "A phone number" in page
    phone = Identifier.objects.get(kind="phone")
    assert client.post(f"/buyer/links/{phone.pk}/contest/", {"statement": ""}).status_code == 400
    done = client.post(f"/buyer/links/{phone.pk}/contest/", {"statement": "Not my number."}, follow=True)
    assert "We received your request" in done.content.decode()
    assert LinkContest.objects.get().identifier_id == phone.pk
    assert "We are reviewing it" in client.get("/buyer/flags/").content.decode()
    email = Identifier.objects.get(kind="email")
    assert client.get(f"/buyer/links/{email.pk}/contest/").status_code == 404  # not a linked identifier
