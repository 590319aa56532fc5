"""Every bad input answers 4xx in the one error envelope — and never echoes an identifier.

All raw identifiers below contain the marker "7731"; no error body and no log line may contain it.
"""

import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from blacklist.models import Flag
from identity.models import Buyer, Identifier

pytestmark = pytest.mark.django_db

MARKER = "7731"
EMAIL = "Raw.Secret7731@Example.com"
PHONE = "+49 151 77317731"
ADDRESS = "7731 Secretlane Road, Springfield"
PLATFORM_ID = "shopee:secret7731"
FINGERPRINT = "fp_secret7731"
BUYER = {"email": EMAIL, "phone": PHONE, "address": ADDRESS, "platform_id": PLATFORM_ID}

FLAGS = "/api/v1/flags"
BATCH = "/api/v1/flags/batch"
DECISIONS = "/api/v1/decisions"


@pytest.fixture(autouse=True)
def _all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert MARKER not in caplog.text


def flag(**overrides):
    body = {"buyer": dict(BUYER), "reason": "refund_abuse", "order_ref": "A-1", "note": "Kept the goods."}
    body.update(overrides)
    return body


def with_buyer(**buyer):
    return {"buyer": buyer, "reason": "refund_abuse", "order_ref": "A-1"}


def assert_error(response, status, code=None):
    """The envelope, the status, and no trace of any identifier that was sent."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    text = response.content.decode()
    assert MARKER not in text
    assert "secret" not in text.casefold()
    return error


def assert_nothing_stored():
    assert not Flag.objects.exists()
    assert not Buyer.objects.exists()
    assert not Identifier.objects.exists()


def post_raw(persona, path, raw, content_type="application/json"):
    return persona.client.generic("POST", path, raw, content_type=content_type)


def future():
    return (timezone.now() + timedelta(days=1)).isoformat()


# --- flag bodies that are valid JSON but bad ---------------------------------------------------

BAD_FLAGS = {
    # reason
    "unknown reason": (flag(reason="teleportation"), "reason"),
    "reason too long": (flag(reason="r" * 41), "reason"),
    "missing reason": ({"buyer": BUYER, "order_ref": "A-1"}, "reason"),
    "empty reason": (flag(reason=""), "reason"),
    "reason as number": (flag(reason=7731), "reason"),
    "reason as null": (flag(reason=None), "reason"),
    # buyer and identifiers
    "missing buyer": ({"reason": "extortion", "order_ref": "A-1"}, "buyer"),
    "empty buyer": (with_buyer(), "buyer"),
    "only a country": (with_buyer(country="DE"), "buyer"),
    "blank identifiers": (with_buyer(email="", phone="   "), "buyer"),
    "buyer as string": (flag(buyer=EMAIL), "buyer"),
    "buyer as list": (flag(buyer=[EMAIL, PHONE]), "buyer"),
    "buyer as null": (flag(buyer=None), "buyer"),
    "buyer as number": (flag(buyer=7731), "buyer"),
    "malformed email": (with_buyer(email="secret7731-at-example.com"), "buyer"),
    "email with spaces": (with_buyer(email="secret 7731@example.com"), "buyer"),
    "malformed phone": (with_buyer(phone="call-me-7731"), "buyer"),
    "too short phone": (with_buyer(phone="+49 7731"), "buyer"),
    "national phone without country": (with_buyer(phone="0151 77317731"), "buyer"),
    "platform id without separator": (with_buyer(platform_id="shopee7731"), "buyer"),
    "platform id without account": (with_buyer(platform_id="shopee7731:"), "buyer"),
    "platform id without platform": (with_buyer(platform_id=":secret7731"), "buyer"),
    "platform id with a bad platform": (with_buyer(platform_id="sh op/ee:secret7731"), "buyer"),
    "address of punctuation": (with_buyer(address=" ,;. ", email=EMAIL), "buyer"),
    "fingerprint with spaces": (with_buyer(payment_fingerprint="fp secret7731"), "buyer"),
    "unknown country": (with_buyer(email=EMAIL, country="XX"), "buyer"),
    "three-letter country": (with_buyer(email=EMAIL, country="DEU"), "buyer"),
    "email too long": (with_buyer(email="secret7731" + "x" * 320 + "@example.com"), "buyer"),
    "phone too long": (with_buyer(phone="+49 151 7731" + "1" * 320), "buyer"),
    "platform id too long": (with_buyer(platform_id="shopee:7731" + "x" * 320), "buyer"),
    "address too long": (with_buyer(address="7731 " + "Secretlane " * 50), "buyer"),
    "fingerprint too long": (with_buyer(payment_fingerprint="fp_7731" + "x" * 320), "buyer"),
    "email as number": (with_buyer(email=77317731), "buyer"),
    "phone as number": (with_buyer(phone=4915177317731, country="DE"), "buyer"),
    "phone as float": (with_buyer(phone=4915177317731.0), "buyer"),
    "platform id as list": (with_buyer(platform_id=["shopee", "secret7731"]), "buyer"),
    "address as object": (with_buyer(address={"street": ADDRESS}), "buyer"),
    "fingerprint as bool": (with_buyer(email=EMAIL, payment_fingerprint=True), "buyer"),
    "identifier as null": (with_buyer(email=None, phone=PHONE), "buyer"),
    "unknown identifier kind": (with_buyer(email=EMAIL, emial=EMAIL), "buyer"),
    # order_ref
    "missing order_ref": ({"buyer": BUYER, "reason": "extortion"}, "order_ref"),
    "empty order_ref": (flag(order_ref=""), "order_ref"),
    "order_ref too long": (flag(order_ref="A" * 65), "order_ref"),
    "order_ref as number": (flag(order_ref=7731), "order_ref"),
    "order_ref as list": (flag(order_ref=["A-1"]), "order_ref"),
    "order_ref as object": (flag(order_ref={"ref": "A-1"}), "order_ref"),
    "order_ref as bool": (flag(order_ref=True), "order_ref"),
    # note
    "note too long": (flag(note="n" * 1001), "note"),
    "note as number": (flag(note=7731), "note"),
    "note as list": (flag(note=["a", "b"]), "note"),
    # occurred_at
    "future occurred_at": (flag(occurred_at=future()), "occurred_at"),
    "occurred_at far in the future": (flag(occurred_at="9999-12-31T23:59:59Z"), "occurred_at"),
    "occurred_at not a date": (flag(occurred_at="yesterday"), "occurred_at"),
    "occurred_at as number": (flag(occurred_at=1700000000), "occurred_at"),
    "occurred_at as list": (flag(occurred_at=["2026-01-01"]), "occurred_at"),
    "occurred_at out of range": (flag(occurred_at="0001-01-01T00:00:00+14:00"), "occurred_at"),
    # the body itself
    "unknown top-level field": (flag(emial=EMAIL), "emial"),
    "several unknown fields": (flag(**{f"x{n}": EMAIL for n in range(30)}), "x0"),
}


@pytest.mark.parametrize(("body", "field"), list(BAD_FLAGS.values()), ids=list(BAD_FLAGS))
def test_it_rejects_a_bad_flag(seller_a, body, field):
    error = assert_error(seller_a.post(FLAGS, body), 400, "validation_error")
    assert field in error["details"]
    assert_nothing_stored()


def test_it_names_the_bad_identifier_field(seller_a):
    error = assert_error(seller_a.post(FLAGS, with_buyer(email=EMAIL, phone="call-me-7731")), 400)
    assert list(error["details"]["buyer"]) == ["phone"]


def test_a_bad_flag_in_a_batch_fails_alone_without_echoing_identifiers(seller_a):
    bodies = [v[0] for v in BAD_FLAGS.values()]
    response = seller_a.post(BATCH, {"flags": [*bodies, flag(order_ref="OK-1")]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [400] * len(bodies) + [201]
    for result in results[:-1]:
        assert result["error"]["code"] == "validation_error"
        assert result["error"]["message"]
    assert MARKER not in response.content.decode()
    assert Flag.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [[flag()], "a string", 7731, None, True, [], {}],
    ids=["list", "string", "number", "null", "bool", "empty list", "empty object"],
)
def test_it_rejects_a_body_that_is_not_a_flag_object(seller_a, body):
    raw = json.dumps(body).encode()
    assert_error(post_raw(seller_a, FLAGS, raw), 400, "validation_error")
    assert_nothing_stored()


def test_a_future_occurred_at_within_clock_skew_is_accepted(seller_a):
    soon = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert seller_a.post(FLAGS, flag(occurred_at=soon)).status_code == 201


def test_the_largest_valid_fields_are_accepted(seller_a):
    body = flag(order_ref="A" * 64, note="n" * 1000)
    assert seller_a.post(FLAGS, body).status_code == 201


# --- raw bodies -----------------------------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"buyer": {"email": "' + EMAIL.encode() + b'"',
    "trailing comma": json.dumps(flag()).encode()[:-1] + b",}",
    "single quotes": b"{'buyer': {'email': '" + EMAIL.encode() + b"'}}",
    "not json": b"email=" + EMAIL.encode(),
    "invalid utf-8": b'{"buyer": {"email": "\xff\xfe' + EMAIL.encode() + b'"}}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "huge integer": b'{"order_ref": ' + b"7" * 5000 + b"}",
    "empty string": b"",
    "whitespace only": b"   \n",
}


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
@pytest.mark.parametrize("path", [FLAGS, BATCH, DECISIONS])
def test_it_rejects_malformed_json(seller_a, path, raw):
    response = post_raw(seller_a, path, raw)
    assert response.status_code == 400
    assert_error(response, 400)
    assert_nothing_stored()


def test_malformed_json_is_a_malformed_request(seller_a):
    assert_error(post_raw(seller_a, FLAGS, b'{"buyer": '), 400, "malformed_request")


@pytest.mark.parametrize("path", [FLAGS, BATCH, DECISIONS])
def test_it_refuses_a_body_over_the_size_limit(seller_a, path):
    body = flag(note="x" * settings.MAX_REQUEST_BYTES)
    if path == BATCH:
        body = {"flags": [body]}
    error = assert_error(post_raw(seller_a, path, json.dumps(body).encode()), 413, "payload_too_large")
    assert str(settings.MAX_REQUEST_BYTES) in error["message"]
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (f"email={EMAIL}&reason=extortion&order_ref=A-1".encode(), "application/x-www-form-urlencoded"),
        (json.dumps(flag()).encode(), "text/plain"),
        (json.dumps(flag()).encode(), "application/xml"),
        (
            f"--b\r\nContent-Disposition: form-data; name=email\r\n\r\n{EMAIL}\r\n--b--\r\n".encode(),
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["form", "text", "xml", "multipart"],
)
@pytest.mark.parametrize("path", [FLAGS, BATCH, DECISIONS])
def test_it_refuses_a_wrong_content_type(seller_a, path, raw, content_type):
    assert_error(post_raw(seller_a, path, raw, content_type), 415, "unsupported_media_type")
    assert_nothing_stored()


def _escaped(body):
    """JSON text with every non-ASCII character (and lone surrogates) as \\u escapes."""
    return json.dumps(body, ensure_ascii=True).encode()


STRANGE_CHARACTERS = {
    "NUL in email": with_buyer(email="secret7731\x00@example.com"),
    "NUL in phone": with_buyer(phone="+49 151 7731\x007731"),
    "NUL in address": with_buyer(address="7731 Secret\x00lane"),
    "NUL in platform id": with_buyer(platform_id="shopee:secret\x007731"),
    "NUL in fingerprint": with_buyer(payment_fingerprint="fp_\x007731"),
    "NUL in order_ref": flag(order_ref="A\x00-1"),
    "NUL in note": flag(note="note\x00 about 7731"),
    "NUL in reason": flag(reason="extortion\x00"),
    "NUL in a key": {**flag(), "\x00": "x"},
    "surrogate in email": with_buyer(email="secret7731\ud800@example.com"),
    "surrogate in phone": with_buyer(phone="+49 151 7731\udfff7731"),
    "surrogate in address": with_buyer(address="7731 Secret\ud800lane"),
    "surrogate in platform id": with_buyer(platform_id="shopee:secret7731\udc00"),
    "surrogate in fingerprint": with_buyer(payment_fingerprint="fp_7731\ud800"),
    "surrogate in order_ref": flag(order_ref="A-\ud800"),
    "surrogate in note": flag(note="about 7731 \udbff"),
    "surrogate in reason": flag(reason="extortion\ud800"),
    "surrogate in a key": {**flag(), "\ud800": "x"},
    "surrogate in a buyer key": with_buyer(email=EMAIL, **{"em\udfffail": EMAIL}),
    "surrogate in country": with_buyer(email=EMAIL, country="D\ud800"),
}


@pytest.mark.parametrize("body", list(STRANGE_CHARACTERS.values()), ids=list(STRANGE_CHARACTERS))
def test_it_rejects_nul_bytes_and_lone_surrogates(seller_a, body):
    assert_error(post_raw(seller_a, FLAGS, _escaped(body)), 400)
    batch = post_raw(seller_a, BATCH, _escaped({"flags": [body]}))
    assert batch.status_code in (200, 400)
    if batch.status_code == 200:
        assert batch.json()["results"][0]["status"] == 400
    else:
        assert_error(batch, 400)
    assert MARKER not in batch.content.decode()
    decision = post_raw(seller_a, DECISIONS, _escaped({"buyer": body.get("buyer", BUYER)}))
    if body.get("buyer", BUYER) != BUYER:
        assert_error(decision, 400)
    else:
        assert decision.status_code == 200
    assert_nothing_stored()


def test_a_surrogate_pair_is_a_valid_character(seller_a):
    """Escaped emoji arrive as surrogate pairs in JSON: they are fine, only lone halves are not."""
    body = flag(note="Angry customer \U0001f621")
    response = post_raw(seller_a, FLAGS, _escaped(body))
    assert response.status_code == 201
    assert Flag.objects.get().note == "Angry customer \U0001f621"


# --- decisions --------------------------------------------------------------------------------------

BAD_DECISIONS = {
    "missing buyer": {},
    "empty buyer": {"buyer": {}},
    "buyer as string": {"buyer": EMAIL},
    "buyer as list": {"buyer": [EMAIL]},
    "malformed email": {"buyer": {"email": "secret7731"}},
    "malformed phone": {"buyer": {"phone": "7731"}},
    "malformed platform id": {"buyer": {"platform_id": "secret7731"}},
    "email as number": {"buyer": {"email": 7731}},
    "unknown buyer field": {"buyer": {"email": EMAIL, "name": "Secret 7731"}},
    "unknown field": {"buyer": {"email": EMAIL}, "seller": "secret7731"},
    "order as string": {"buyer": {"email": EMAIL}, "order": "7731"},
    "order as list": {"buyer": {"email": EMAIL}, "order": ["7731"]},
    "bad payment method": {"buyer": {"email": EMAIL}, "order": {"payment_method": "card7731"}},
    "bad currency": {"buyer": {"email": EMAIL}, "order": {"currency": "EURO"}},
    "bad value": {"buyer": {"email": EMAIL}, "order": {"value": "lots7731"}},
    "negative value": {"buyer": {"email": EMAIL}, "order": {"value": "-1.00"}},
    "bad order country": {"buyer": {"email": EMAIL}, "order": {"country": "XX"}},
    "order ref too long": {"buyer": {"email": EMAIL}, "order": {"ref": "R" * 65}},
    "order ref as number": {"buyer": {"email": EMAIL}, "order": {"ref": 7731}},
    "unknown order field": {"buyer": {"email": EMAIL}, "order": {"ref": "A-1", "note": "secret7731"}},
}


@pytest.mark.parametrize("body", list(BAD_DECISIONS.values()), ids=list(BAD_DECISIONS))
def test_it_rejects_a_bad_decision_request(seller_a, body):
    assert_error(seller_a.post(DECISIONS, body), 400, "validation_error")
    assert_nothing_stored()


# --- URLs and methods -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/flags", "/api/", "/api/v1/flags/", "/api/v1/flags/x/y"])
def test_an_unknown_api_url_is_404_json(seller_a, anon, path):
    assert_error(seller_a.get(path), 404, "not_found")
    assert_error(seller_a.post(path, flag()), 404, "not_found")
    assert_error(anon.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", FLAGS),
        ("patch", FLAGS),
        ("delete", FLAGS),
        ("get", BATCH),
        ("get", DECISIONS),
        ("delete", DECISIONS),
        ("post", "/api/v1/reasons"),
        ("get", "/api/v1/flags/00000000-0000-4000-8000-000000000000"),
        ("post", "/api/v1/flags/00000000-0000-4000-8000-000000000000"),
    ],
)
def test_a_wrong_method_is_405(seller_a, method, path):
    response = getattr(seller_a.client, method)(path, flag(), format="json")
    assert_error(response, 405, "method_not_allowed")
    assert "Allow" in response
    assert_nothing_stored()
