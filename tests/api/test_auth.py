"""API keys: who may call what; the open endpoints (docs, probes)."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from blacklist.models import ApiKey
from blacklist.services.keys import api_key_create, api_key_revoke, key_digest

pytestmark = pytest.mark.django_db

SELLER_ENDPOINTS = [
    ("get", "/api/v1/flags"),
    ("post", "/api/v1/flags"),
    ("post", "/api/v1/flags/batch"),
    ("delete", "/api/v1/flags/00000000-0000-4000-8000-000000000000"),
    ("get", "/api/v1/reasons"),
    ("post", "/api/v1/decisions"),
    ("get", "/api/v1/policy"),
    ("put", "/api/v1/policy"),
]
BODY = {"buyer": {"email": "auth@example.com"}, "reason": "extortion", "order_ref": "A-1"}


def call(client, method, path):
    if method in ("post", "put"):
        return getattr(client, method)(path, BODY, format="json")
    return getattr(client, method)(path)


def client_with(header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def assert_unauthenticated(response):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert error["message"]


@pytest.mark.parametrize(("method", "path"), SELLER_ENDPOINTS)
def test_a_request_without_a_key_is_401(reasons, method, path):
    assert_unauthenticated(call(APIClient(), method, path))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer rh_not-a-real-key",
        "Bearer ",
        "Bearer",
        "Bearer a b",
        # A WSGI server hands over header bytes decoded as latin-1: this is UTF-8 "ключ" on the wire.
        "Bearer ключ".encode().decode("latin-1"),
        "Bearer rh_\x00\xff",
        "bearer rh_not-a-real-key",
    ],
)
@pytest.mark.parametrize(("method", "path"), SELLER_ENDPOINTS[:2] + SELLER_ENDPOINTS[5:6])
def test_a_bad_key_is_401(reasons, header, method, path):
    assert_unauthenticated(call(client_with(header), method, path))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token rh_abc", "rh_abc"])
def test_another_auth_scheme_is_401(reasons, header):
    assert_unauthenticated(client_with(header).get("/api/v1/flags"))


def test_a_key_is_stored_only_as_a_digest(seller_a):
    key = ApiKey.objects.get(seller=seller_a.seller)
    assert key.digest == key_digest(seller_a.key)
    assert seller_a.key not in {key.digest, key.prefix, key.name}
    assert seller_a.key.startswith(key.prefix)


@pytest.mark.parametrize(("method", "path"), SELLER_ENDPOINTS)
def test_a_revoked_key_is_401(seller_a, method, path):
    assert seller_a.get("/api/v1/flags").status_code == 200
    api_key_revoke(key=ApiKey.objects.get(seller=seller_a.seller))
    assert_unauthenticated(call(seller_a.client, method, path))


def test_revoking_one_key_leaves_the_sellers_other_keys_working(seller_a):
    _, second = api_key_create(seller=seller_a.seller, name="second")
    api_key_revoke(key=ApiKey.objects.get(seller=seller_a.seller, name="test"))
    assert_unauthenticated(seller_a.get("/api/v1/flags"))
    assert client_with(f"Bearer {second}").get("/api/v1/flags").status_code == 200


def test_an_inactive_sellers_key_is_401(seller_a):
    seller_a.seller.is_active = False
    seller_a.seller.save()
    assert_unauthenticated(seller_a.get("/api/v1/flags"))


@pytest.mark.parametrize(("method", "path"), SELLER_ENDPOINTS)
def test_an_admin_key_on_a_seller_endpoint_is_403(admin_key, method, path):
    response = call(admin_key.client, method, path)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "forbidden"


def test_a_used_key_records_when_it_was_last_used(seller_a):
    key = ApiKey.objects.get(seller=seller_a.seller)
    assert key.last_used_at is None
    assert seller_a.get("/api/v1/reasons").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    first = key.last_used_at
    seller_a.get("/api/v1/reasons")
    key.refresh_from_db()
    assert key.last_used_at == first  # written at most once a minute, off the hot path


def test_a_failed_call_with_a_bad_key_touches_no_key(seller_a):
    client_with("Bearer rh_wrong").get("/api/v1/reasons")
    assert ApiKey.objects.get(seller=seller_a.seller).last_used_at is None


def test_reasons_list_the_seeded_codes(seller_a):
    response = seller_a.get("/api/v1/reasons")
    assert response.status_code == 200
    reasons = {r["code"]: r for r in response.json()}
    assert set(reasons) == {
        "refund_abuse",
        "extortion",
        "non_payment",
        "unpaid_order",
        "card_fraud",
        "malicious_feedback",
        "false_quality_dispute",
        "remote_address",
        "cod_refusal",
        "other",
    }
    assert reasons["extortion"]["label"] == "Malicious threats or extortion"
    assert reasons["extortion"]["kind"] == "trust"
    assert reasons["cod_refusal"]["kind"] == "logistics"
    assert all(r["description"] for r in reasons.values())


# --- open endpoints -----------------------------------------------------------------------------


def test_the_openapi_schema_needs_no_key(anon):
    response = anon.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "openapi: 3" in text
    for path in ("/api/v1/flags", "/api/v1/flags/batch", "/api/v1/decisions", "/api/v1/reasons"):
        assert f"{path}:" in text


def test_the_openapi_schema_is_also_served_as_json(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_interactive_docs_need_no_key(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_docs_ignore_a_bad_key(reasons):
    assert client_with("Bearer rh_wrong").get("/api/schema/").status_code == 200


def test_healthz_is_200(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_redis(anon, db):
    response = anon.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    if settings.REDIS_URL:
        assert body["checks"]["redis"] == "ok"
    else:
        assert "redis" not in body["checks"]


def test_readyz_is_503_when_redis_does_not_answer(anon, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = anon.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


def test_a_key_is_looked_up_once_per_process_for_a_short_while(seller_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert seller_a.get("/api/v1/reasons").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert seller_a.get("/api/v1/reasons").status_code == 200
    assert not [q for q in queries if "blacklist_apikey" in q["sql"]]


def test_each_request_gets_its_own_copy_of_a_cached_key(seller_a):
    from blacklist.auth import key_authenticate

    header = f"Bearer {seller_a.key}".encode()
    seller, key = key_authenticate(header=header)
    seller.name, key.prefix = "changed in one request", "changed"
    again_seller, again_key = key_authenticate(header=header)  # from the process's cache
    assert (again_seller.name, again_key.prefix) == (seller_a.seller.name, seller_a.seller.keys.get().prefix)
    assert again_key.seller is again_seller and again_seller is not seller and again_key is not key
