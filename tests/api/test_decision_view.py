"""The decision endpoint is a plain Django view (scoring.views.decisions) with one explicit chain.

These tests pin down what it shares with the DRF views: the prebuilt validator agrees with
DecisionInputSerializer on generated input, and every refusal the chain makes (method, key, rate,
body) is the same status, envelope and headers a DRF view (POST /api/v1/flags) gives for it.
"""

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from rest_framework.views import APIView

from riskhub.validation import prebuilt
from scoring.views import DecisionInputSerializer

_decision_input_prebuilt = prebuilt(DecisionInputSerializer)

DECISIONS = "/api/v1/decisions"
FLAGS = "/api/v1/flags"  # a DRF view with the same key permission, rate limiting and JSON parser

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


def answers(client, data=None, *, raw=None, content_type="application/json", **extra):
    """(status, headers, body) of the same request to the decision view and to a DRF view."""
    payload = raw if raw is not None else json.dumps(data)
    got = []
    for path in (DECISIONS, FLAGS):
        response = client.generic("POST", path, payload, content_type=content_type, **extra)
        got.append((response.status_code, _headers(response), response.json()))
    return got


def _headers(response):
    return {k: v for k, v in response.items() if k in ("Content-Type", "WWW-Authenticate")}


RAW_BODIES = {
    "malformed json": b'{"buyer": ',
    "not utf-8": b"\xff\xfe not utf-8",
    "lone surrogate": b'{"buyer": {"email": "\\ud800@b.co"}}',
    "too large": b'{"buyer": {"email": "' + b"a" * 1_100_000 + b'"}}',
}


@pytest.mark.parametrize("raw", list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_bad_bodies_are_refused_as_drf_views_refuse_them(seller_a, raw):
    plain, drf = answers(seller_a.client, raw=raw)
    assert plain[0] in (400, 413)
    assert plain == drf


@pytest.mark.parametrize(
    "extra",
    [
        {"content_type": "text/plain"},
        {"HTTP_AUTHORIZATION": "Bearer rh_not-a-real-key"},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": ""},
    ],
    ids=["text", "bad key", "malformed header", "no key"],
)
def test_refusals_match_drf_views(seller_a, extra):
    client = seller_a.client
    if "HTTP_AUTHORIZATION" in extra:
        client = APIClient()  # no stored credentials: the header given is the one sent
    plain, drf = answers(client, {"buyer": {"email": "a@b.co"}}, **extra)
    assert plain[0] in (401, 415)
    assert plain == drf
    if plain[0] == 401:
        assert plain[1]["WWW-Authenticate"] == "Bearer"


def test_an_admin_key_is_refused_with_403(admin_key):
    plain, drf = answers(admin_key.client, {"buyer": {"email": "a@b.co"}})
    assert plain[0] == 403
    assert plain == drf


def test_json_with_a_charset_and_any_accept_header_is_answered(seller_a):
    response = seller_a.client.post(
        DECISIONS,
        json.dumps({"buyer": {"email": "a@b.co"}}),
        content_type="application/json; charset=utf-8",
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["decision"] == "ship"


def test_an_empty_body_names_the_missing_buyer(seller_a):
    response = seller_a.client.generic("POST", DECISIONS, b"")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"buyer": ["This field is required."]}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_naming_post(seller_a, method):
    response = seller_a.client.generic(method, DECISIONS)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_rate_limit_answers_429_with_retry_after(seller_a):
    cache.clear()
    with override_settings(RATE_LIMITS={"default": "600/min", "flags": "1200/min", "decisions": "1/min"}):
        assert seller_a.post(DECISIONS, {"buyer": {"email": "a@b.co"}}).status_code == 200
        response = seller_a.post(DECISIONS, {"buyer": {"email": "a@b.co"}})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_one_pipeline_no_drf_dispatch(seller_a, monkeypatch):
    calls = []
    drf_dispatch = APIView.dispatch

    def counting(self, request, *args, **kwargs):
        calls.append(request.method)
        return drf_dispatch(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", counting)
    assert seller_a.post(DECISIONS, {"buyer": {"email": "a@b.co"}}).status_code == 200
    assert seller_a.post(DECISIONS, {"buyer": {"email": "nope"}}).status_code == 400
    assert seller_a.client.get(DECISIONS).status_code == 405
    assert seller_a.client.post(DECISIONS, "x", content_type="text/plain").status_code == 415
    assert calls == []
    assert resolve(DECISIONS).func.__module__ == "scoring.views"


def test_the_schema_documents_every_refusal_of_the_chain(seller_a):
    schema = seller_a.client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/decisions"]["post"]
    assert operation["operationId"] == "decisions_create"
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]
