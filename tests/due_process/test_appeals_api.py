"""The buyer's path: code by email, token, their flags, an appeal."""

import base64
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blacklist.models import AuditEvent, Flag, FlagStatus
from disputes.models import AppealCode, Dispute
from riskhub.celery import app
from tests.conftest import rescore
from tests.due_process.helpers import (
    appeal,
    buyer_client,
    buyer_token,
    code_from_mail,
    flag,
    open_dispute,
    session,
    start,
)

pytestmark = pytest.mark.django_db

EMAIL = "Jane.Buyer@Example.com"


def test_start_answers_the_same_202_for_known_and_unknown_addresses(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    known = start(EMAIL)
    unknown = start("nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [EMAIL]
    assert code_from_mail(mailoutbox[0])


def test_start_does_the_same_work_for_known_and_unknown_addresses_and_mails_off_the_request(
    seller_a, mailoutbox, django_assert_num_queries
):
    """No lookup, no sleep and no mail in the request: the worker does those (disputes.tasks)."""
    flag(seller_a, email=EMAIL)
    app.conf.task_always_eager = False
    try:
        for email in (EMAIL, "nobody@example.com"):
            with django_assert_num_queries(0):
                began = time.monotonic()
                assert start(email).status_code == 202
                # Not a speed target: a request that waited on a mail server or a sleep would take
                # seconds; 0.2 s was exceeded once on a loaded 2-core machine (0.32 s).
                assert time.monotonic() - began < 1.0
    finally:
        app.conf.task_always_eager = True
    assert mailoutbox == []


def test_start_rejects_a_malformed_address_without_echoing_it(anon):
    response = start("not-an-address")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert "not-an-address" not in response.content.decode()


def test_the_code_is_stored_only_hashed(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    code = code_from_mail(mailoutbox[0])
    row = AppealCode.objects.get()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.expires_at > timezone.now()


def test_a_code_works_once(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    code = code_from_mail(mailoutbox[0])
    first = session(EMAIL, code)
    assert first.status_code == 200
    assert first.json()["token"].startswith("rhb_")
    again = session(EMAIL, code)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_code"


def test_an_expired_code_is_refused(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    AppealCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = session(EMAIL, code_from_mail(mailoutbox[0]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"


def test_a_client_is_refused_after_its_allowed_wrong_attempts(seller_a, mailoutbox, settings):
    settings.APPEAL_CODE_MAX_ATTEMPTS = 3
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    code = code_from_mail(mailoutbox[0])
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    for _ in range(3):
        assert session(EMAIL, wrong, REMOTE_ADDR="10.0.0.9").status_code == 400
    response = session(EMAIL, code, REMOTE_ADDR="10.0.0.9")  # the right code, too late from this client
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert AppealCode.objects.get().attempts == 3


def test_someone_elses_wrong_codes_do_not_burn_the_code_the_buyer_holds(seller_a, mailoutbox, settings):
    settings.APPEAL_CODE_MAX_ATTEMPTS = 3
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    code = code_from_mail(mailoutbox[0])
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    for _ in range(10):  # a third party who knows the address hammers it with guesses
        assert session(EMAIL, wrong, REMOTE_ADDR="203.0.113.66").status_code == 400
    response = session(EMAIL, code, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    assert response.json()["token"].startswith("rhb_")


def test_guesses_from_many_clients_together_still_kill_a_code(seller_a, mailoutbox, settings):
    settings.APPEAL_CODE_MAX_TOTAL_ATTEMPTS = 4
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    code = code_from_mail(mailoutbox[0])
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    for n in range(4):
        assert session(EMAIL, wrong, REMOTE_ADDR=f"192.0.2.{n + 1}").status_code == 400
    assert session(EMAIL, code, REMOTE_ADDR="192.0.2.99").status_code == 400


def test_asking_again_does_not_void_the_code_in_hand(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    start(EMAIL)  # anyone may ask again for this address: the buyer's first code must still work
    old, new = code_from_mail(mailoutbox[0]), code_from_mail(mailoutbox[1])
    assert session(EMAIL, old).status_code == 200
    if old != new:
        assert session(EMAIL, new).status_code == 400  # a successful session uses up every live code


def test_only_the_newest_codes_stay_live(seller_a, mailoutbox, settings):
    settings.APPEAL_CODES_LIVE = 2
    flag(seller_a, email=EMAIL)
    for _ in range(3):
        start(EMAIL)
    first = code_from_mail(mailoutbox[0])
    assert AppealCode.objects.filter(used_at__isnull=True).count() == 2
    if first not in {code_from_mail(m) for m in mailoutbox[1:]}:
        assert session(EMAIL, first).status_code == 400


def test_start_limits_refill_gradually_rather_than_per_fixed_window(settings):
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_email": "2/s"}
    assert start("bucket@example.com").status_code == 202
    assert start("bucket@example.com").status_code == 202
    limited = start("bucket@example.com")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "1"
    time.sleep(0.6)  # one unit back every 0.5 s, not the whole allowance at a window boundary
    assert start("bucket@example.com").status_code == 202
    assert start("bucket@example.com").status_code == 429


def test_start_is_rate_limited_per_address(seller_a, mailoutbox, settings):
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_email": "2/hour"}
    for _ in range(2):
        assert start("someone@example.com", REMOTE_ADDR="127.0.0.2").status_code == 202
    limited = start("SOMEONE@example.com", REMOTE_ADDR="127.0.0.3")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1
    assert start("other@example.com", REMOTE_ADDR="127.0.0.3").status_code == 202


def test_start_is_rate_limited_per_client(settings):
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "start_ip": "3/hour"}
    for n in range(3):
        assert start(f"b{n}@example.com", REMOTE_ADDR="127.0.0.4").status_code == 202
    limited = start("b9@example.com", REMOTE_ADDR="127.0.0.4")
    assert limited.status_code == 429
    assert "Retry-After" in limited
    assert start("b9@example.com", REMOTE_ADDR="127.0.0.5").status_code == 202


def test_session_is_rate_limited_per_client(settings):
    settings.APPEAL_RATE_LIMITS = {**settings.APPEAL_RATE_LIMITS, "session_ip": "2/hour"}
    for _ in range(2):
        assert session("x@example.com", "12345678", REMOTE_ADDR="127.0.0.6").status_code == 400
    assert session("x@example.com", "12345678", REMOTE_ADDR="127.0.0.6").status_code == 429


def test_the_buyer_sees_flags_through_corroborated_links_only_without_their_order_refs(
    seller_a, seller_b, outsider, mailoutbox
):
    flag(seller_a, email=EMAIL, phone="+4915112345678", order_ref="A-7", note="Kept the goods.")
    flag(seller_b, phone="+49 151 12345678", reason="extortion", order_ref="B-9")  # phone only
    rescore()
    token = buyer_token(EMAIL)
    lone = buyer_client(token).get("/api/v1/appeals/flags").json()["results"]
    assert [(r["order_ref"], r["named"]) for r in lone] == [("A-7", "direct")]  # one seller's link joins nothing

    flag(outsider, email=EMAIL, phone="+4915112345678", order_ref="O-1")  # a second seller: corroborated
    rescore()
    response = buyer_client(token).get("/api/v1/appeals/flags")
    assert response.status_code == 200
    results = {r["reason"] + ":" + r["named"]: r for r in response.json()["results"]}
    assert set(results) == {"refund_abuse:direct", "extortion:linked"}
    linked = results["extortion:linked"]
    assert (linked["order_ref"], linked["via"]) == (None, "phone")
    assert "phone number" in linked["explanation"]
    for item in results.values():
        assert set(item) >= {"id", "reason", "order_ref", "occurred_at", "created_at", "status"}
        assert "seller" not in item and "note" not in item
        assert item["appealable"] is True
    text = response.content.decode()
    assert "Seller A" not in text and "Seller B" not in text and "Kept the goods" not in text
    assert "B-9" not in text


def test_a_buyer_appeals_a_flag_and_it_becomes_disputed(seller_a, mailoutbox):
    flagged = flag(seller_a, email=EMAIL)
    token = buyer_token(EMAIL)
    response = appeal(token, flagged["id"])
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "open"
    assert body["id"]
    assert Flag.objects.get(pk=flagged["id"]).status == FlagStatus.DISPUTED
    event = AuditEvent.objects.filter(flag_id=flagged["id"], action="dispute").get()
    assert (event.actor_type, event.from_status, event.to_status) == ("buyer", "active", "disputed")
    listed = buyer_client(token).get("/api/v1/appeals/flags").json()["results"][0]
    assert listed["status"] == "disputed"
    assert listed["appealable"] is False


def test_one_open_appeal_per_flag(seller_a, mailoutbox):
    flagged, _, token = open_dispute(seller_a, EMAIL)
    again = appeal(token, flagged["id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "appeal_open"
    assert Dispute.objects.count() == 1


def test_the_database_refuses_a_second_open_appeal(seller_a, mailoutbox):
    from django.db import IntegrityError, transaction

    flagged, _, _ = open_dispute(seller_a, EMAIL)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispute.objects.create(flag_id=flagged["id"], statement="again", buyer_digest="x" * 64)


def test_appealing_another_buyers_flag_is_404(seller_a, mailoutbox):
    theirs = flag(seller_a, email="someone.else@example.com", order_ref="X-1")
    flag(seller_a, email=EMAIL, order_ref="A-1")
    token = buyer_token(EMAIL)
    response = appeal(token, theirs["id"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Flag.objects.get(pk=theirs["id"]).status == FlagStatus.ACTIVE


def test_an_upheld_flag_cannot_be_appealed_again_for_180_days(seller_a, admin_key, mailoutbox):
    flagged, dispute, token = open_dispute(seller_a, EMAIL)
    resolved = admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "upheld", "note": "ok"})
    assert resolved.status_code == 200
    refused = appeal(token, flagged["id"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "appeal_too_soon"
    assert "appealable_after" in refused.json()["error"]["details"]
    Dispute.objects.filter(pk=dispute["id"]).update(resolved_at=timezone.now() - timedelta(days=181))
    again = appeal(token, flagged["id"])
    assert again.status_code == 201
    assert Flag.objects.get(pk=flagged["id"]).status == FlagStatus.DISPUTED


def test_a_retracted_flag_cannot_be_appealed(seller_a, mailoutbox):
    flagged = flag(seller_a, email=EMAIL)
    assert seller_a.delete(f"/api/v1/flags/{flagged['id']}").status_code == 204
    token = buyer_token(EMAIL)
    response = appeal(token, flagged["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"


def test_buyer_endpoints_need_a_buyer_token(seller_a, admin_key, anon):
    assert anon.get("/api/v1/appeals/flags").status_code == 401
    for persona in (seller_a, admin_key):
        response = persona.get("/api/v1/appeals/flags")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert persona.post("/api/v1/appeals", {"flag": "00000000-0000-0000-0000-000000000000"}).status_code == 401


def test_a_buyer_token_is_not_an_api_key(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    client = buyer_client(buyer_token(EMAIL))
    for path in ("/api/v1/flags", "/api/v1/disputes", "/api/v1/admin/disputes"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthenticated"


def test_an_expired_or_forged_buyer_token_is_refused(seller_a, mailoutbox, settings):
    flag(seller_a, email=EMAIL)
    token = buyer_token(EMAIL)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert buyer_client(forged).get("/api/v1/appeals/flags").status_code == 401
    settings.APPEAL_TOKEN_TTL = timedelta(seconds=1)
    time.sleep(2.1)
    response = buyer_client(token).get("/api/v1/appeals/flags")
    assert response.status_code == 401


def test_the_buyers_address_is_never_stored_in_the_clear(seller_a, mailoutbox):
    _, _, token = open_dispute(seller_a, EMAIL, note="Contact me at jane.buyer@example.com")
    appeal_text = "Write to me: jane.buyer@example.com or +49 151 12345678"
    other = flag(seller_a, email=EMAIL, order_ref="A-2")
    assert appeal(token, other["id"], statement=appeal_text).status_code == 201
    needles = ("jane.buyer@example.com", "12345678")
    with connection.cursor() as cursor:
        for table in ("disputes_dispute", "disputes_appealcode", "blacklist_auditevent", "blacklist_flag"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall()).lower()
            for needle in needles:
                assert needle not in dump, table
    assert "[redacted]" in Dispute.objects.get(flag_id=other["id"]).statement
    sealed = base64.urlsafe_b64decode(token.removeprefix("rhb_"))
    assert b"jane.buyer" not in sealed.lower()  # the token carries the address sealed, not encoded
