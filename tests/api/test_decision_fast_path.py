"""The decision endpoint's lean path (scoring.fastpath, riskhub.validation) answers exactly as DRF would.

An ordinary decision request skips DRF's dispatch and the per-request serializer. These tests pin
that down from both sides: the prebuilt validator agrees with DecisionInputSerializer on generated
input, and the same request answered by the lean path and by DRF's full dispatch (a query string
sends it there) gets the same status, headers and body.
"""

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.views import APIView

from riskhub.validation import prebuilt
from scoring.views import DecisionInputSerializer
from tests.conftest import rescore

_decision_input_prebuilt = prebuilt(DecisionInputSerializer)

DECISIONS = "/api/v1/decisions"
VIA_DRF = "/api/v1/decisions?via=drf"  # a query string is one of the things the lean path leaves to DRF

BUYER_FIELDS = ["platform_id", "email", "phone", "address", "payment_fingerprint", "country"]
ORDER_FIELDS = ["ref", "payment_method", "country", "value", "currency"]

VALID = [
    {"buyer": {"email": "buyer@example.com"}},
    {"buyer": {"email": " BUYER@Example.COM "}},
    {"buyer": {"phone": "0151 10000042", "country": "DE"}},
    {"buyer": {"phone": "+49 151 10000042", "country": "de"}},
    {"buyer": {"platform_id": "shopee:500042"}},
    {"buyer": {"address": "1 Main Street, Springfield", "payment_fingerprint": "fp_1"}},
    {"buyer": {"email": "a@b.co", "phone": "+4915110000042", "platform_id": "ebay:x"}},
    {"buyer": {"email": "a@b.co"}, "order": {}},
    {"buyer": {"email": "a@b.co"}, "order": {"ref": "O-1", "payment_method": "cod", "value": "42.00"}},
    {
        "buyer": {"email": "a@b.co", "country": "fr"},
        "order": {"ref": " R ", "payment_method": "prepaid", "country": "de", "value": 7, "currency": "eur"},
    },
    {"buyer": {"email": "a@b.co"}, "order": {"value": 12.5}},
]


def serializer_answer(data):
    serializer = DecisionInputSerializer(data=data)
    return serializer.validated_data if serializer.is_valid() else None


@pytest.mark.parametrize("data", VALID, ids=range(len(VALID)))
def test_the_prebuilt_validator_answers_ordinary_input_as_the_serializer(data):
    fast = _decision_input_prebuilt(data)
    assert fast is not None
    assert fast == serializer_answer(data)


def _sized(char, size):
    return char * size


scalars = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "a@b.co",
            " A@B.CO ",
            "not-an-email",
            "+4915110000042",
            "0151 10000042",
            "7731",
            "shopee:1",
            "shopee",
            "DE",
            "de",
            "XX",
            "D",
            "cod",
            "COD",
            "prepaid",
            "EUR",
            "EURO",
            "12.50",
            "1.005",
            "-1",
            "1e3",
            "NaN",
            "a\x00b",
            "fp 1",
        ]
    ),
    st.text(max_size=12),
    st.builds(_sized, st.sampled_from(["a", "é", " "]), st.sampled_from([2, 3, 63, 64, 65, 319, 320, 321, 500, 501])),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(),
    st.booleans(),
    st.none(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.text(max_size=3), scalars, max_size=2))
buyers = st.dictionaries(st.sampled_from([*BUYER_FIELDS, "name"]), values, max_size=4)
orders = st.dictionaries(st.sampled_from([*ORDER_FIELDS, "note"]), values, max_size=5)
bodies = st.one_of(
    st.fixed_dictionaries({"buyer": buyers}, optional={"order": orders}),
    st.dictionaries(st.sampled_from(["buyer", "order", "seller"]), st.one_of(buyers, orders, values), max_size=3),
    values,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_the_prebuilt_validator_never_accepts_what_the_serializer_rejects(data):
    fast = _decision_input_prebuilt(data)
    expected = serializer_answer(data)
    if fast is not None:
        assert expected is not None
        assert fast == expected
    if expected is None:
        assert fast is None


@pytest.fixture
def flagged_buyer(seller_a, seller_b):
    for persona, reason in ((seller_a, "refund_abuse"), (seller_b, "extortion")):
        body = {"buyer": {"email": "known@example.com"}, "reason": reason, "order_ref": f"K-{reason}"}
        assert persona.post("/api/v1/flags", body).status_code == 201
    rescore()


def answers(client, data=None, *, raw=None, content_type="application/json", **extra):
    """(status, headers, body) of the same request sent to the lean path and to DRF's dispatch."""
    payload = raw if raw is not None else json.dumps(data)
    got = []
    for path in (DECISIONS, VIA_DRF):
        response = client.generic("POST", path, payload, content_type=content_type, **extra)
        got.append((response.status_code, dict(response.items()), response.content))
    return got


SAME_ANSWER = {
    "known buyer": {"buyer": {"email": "Known@Example.com"}, "order": {"payment_method": "cod"}},
    "unknown buyer": {"buyer": {"phone": "030 1234567", "country": "DE"}},
    "empty buyer": {"buyer": {}},
    "bad email": {"buyer": {"email": "nope"}},
    "unknown field": {"buyer": {"email": "a@b.co"}, "seller": 1},
    "number as text": {"buyer": {"email": 7731}},
    "bad order": {"buyer": {"email": "a@b.co"}, "order": {"payment_method": "card", "ref": "R" * 65}},
    "not an object": ["a@b.co"],
}


@pytest.mark.parametrize("data", list(SAME_ANSWER.values()), ids=list(SAME_ANSWER))
def test_the_lean_path_answers_as_drf_dispatch(seller_a, flagged_buyer, data):
    lean, drf = answers(seller_a.client, data)
    assert lean == drf


RAW_BODIES = {
    "malformed json": b'{"buyer": ',
    "not utf-8": b"\xff\xfe not utf-8",
    "lone surrogate": b'{"buyer": {"email": "\\ud800@b.co"}}',
    "too large": b'{"buyer": {"email": "' + b"a" * 1_100_000 + b'"}}',
}


@pytest.mark.parametrize("raw", list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_the_lean_path_refuses_bad_bodies_as_drf_dispatch(seller_a, raw):
    lean, drf = answers(seller_a.client, raw=raw)
    assert lean[0] in (400, 413)
    assert lean == drf


@pytest.mark.parametrize(
    "extra",
    [
        {"content_type": "text/plain"},
        {"content_type": "application/json; charset=utf-8"},
        {"HTTP_ACCEPT": "application/json; indent=4"},
        {"HTTP_ACCEPT": "text/html"},
        {"HTTP_AUTHORIZATION": "Bearer rh_not-a-real-key"},
        {"HTTP_AUTHORIZATION": ""},
    ],
    ids=["text", "charset", "indent", "html", "bad key", "no key"],
)
def test_unusual_requests_get_drfs_answer(seller_a, extra):
    lean, drf = answers(seller_a.client, {"buyer": {"email": "a@b.co"}}, **extra)
    assert lean == drf


def test_an_admin_key_gets_drfs_403(admin_key):
    lean, drf = answers(admin_key.client, {"buyer": {"email": "a@b.co"}})
    assert lean[0] == 403
    assert lean == drf


def test_the_rate_limit_applies_on_the_lean_path(seller_a):
    cache.clear()
    with override_settings(RATE_LIMITS={"default": "600/min", "flags": "1200/min", "decisions": "1/min"}):
        assert seller_a.post(DECISIONS, {"buyer": {"email": "a@b.co"}}).status_code == 200
        lean, drf = answers(seller_a.client, {"buyer": {"email": "a@b.co"}})
    assert lean[0] == drf[0] == 429
    assert lean[2] == drf[2]
    assert int(lean[1]["Retry-After"]) >= 1
    assert {k: v for k, v in lean[1].items() if k != "Retry-After"} == {
        k: v for k, v in drf[1].items() if k != "Retry-After"
    }


def test_an_ordinary_decision_skips_drfs_dispatch_and_others_do_not(seller_a, monkeypatch):
    calls = []
    drf_dispatch = APIView.dispatch

    def counting(self, request, *args, **kwargs):
        calls.append(request.method)
        return drf_dispatch(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", counting)
    assert seller_a.post(DECISIONS, {"buyer": {"email": "a@b.co"}}).status_code == 200
    assert seller_a.post(DECISIONS, {"buyer": {"email": "nope"}}).status_code == 400
    assert calls == []
    assert seller_a.client.get(DECISIONS).status_code == 405
    assert seller_a.client.post(DECISIONS, "x", content_type="text/plain").status_code == 415
    assert calls == ["GET", "POST"]
