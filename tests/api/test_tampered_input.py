"""Tampered cursors, page sizes, ids and query parameters: a 4xx in the envelope on every list
and detail endpoint, never a 500."""

import base64
from urllib.parse import urlencode

import pytest

from tests.due_process.helpers import buyer_client, flag, open_dispute

pytestmark = pytest.mark.django_db


def b64(text):
    return base64.b64encode(text.encode()).decode()


TAMPERED_CURSORS = [
    b64("p=garbage"),  # the example: a well-formed cursor with a position that is no timestamp
    b64("p=2026-13-45 99:99:99"),
    b64("p=\x00"),
    b64("o=-1"),
    b64("o=abc"),
    b64("r=x&p=2026-01-01"),
    "not base64!",
    "%00",
    "é",
    "%%%",
    "cD1nYXJiYWdl!!",
    b64("x=1"),
    b64("p=" + "9" * 5000),
]
BAD_PAGE_SIZES = ["0", "-1", "201", "abc", "1e3", "²", "", "10.5", "99999999999999999999999"]


@pytest.fixture
def lists(seller_a, admin_key, mailoutbox, codes_mailed_in_process):
    """Every list endpoint, each with a client allowed to read it and at least one item."""
    _, _, token = open_dispute(seller_a, "lister@example.com")
    return [
        (seller_a.client, "/api/v1/flags"),
        (seller_a.client, "/api/v1/disputes"),
        (admin_key.client, "/api/v1/admin/disputes"),
        (buyer_client(token), "/api/v1/appeals/flags"),
    ]


def assert_4xx(response, status=400, code=None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code


def test_tampered_cursors_are_400_on_every_list(lists):
    for client, path in lists:
        for cursor in TAMPERED_CURSORS:
            assert_4xx(client.get(f"{path}?{urlencode({'cursor': cursor})}"), 400, "invalid_cursor")


def test_bad_page_sizes_are_400_on_every_list(lists):
    for client, path in lists:
        for size in BAD_PAGE_SIZES:
            assert_4xx(client.get(f"{path}?{urlencode({'page_size': size})}"), 400, "invalid_page_size")
        assert client.get(path, {"page_size": "200"}).status_code == 200


def test_every_list_pages_with_the_same_envelope_and_cursor(lists, seller_a):
    for n in range(3):
        flag(seller_a, email=f"page{n}@example.com", order_ref=f"P-{n}")
    for client, path in lists:
        body = client.get(path, {"page_size": "1"}).json()
        assert set(body) == {"next", "previous", "results"}
        assert len(body["results"]) == 1
        if body["next"]:
            assert client.get(body["next"]).status_code == 200


def test_bad_filters_are_400_with_the_field_named(lists):
    for client, path in lists[:3]:
        assert_4xx(client.get(path, {"status": "nonsense"}), 400, "validation_error")
        assert_4xx(client.get(path, {"status": "open\x00"}), 400, "validation_error")
    seller_client = lists[0][0]
    assert_4xx(seller_client.get("/api/v1/flags", {"reason": "x\x00y"}), 400, "validation_error")
    assert_4xx(seller_client.get("/api/v1/flags", {"reason": "r" * 41}), 400, "validation_error")


def test_tampered_path_ids_are_404_json(seller_a, admin_key):
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-00000000000g", "%00", "1", "..%2F..%2Fadmin"):
        assert_4xx(seller_a.delete(f"/api/v1/flags/{bad}"), 404, "not_found")
        assert_4xx(seller_a.post(f"/api/v1/disputes/{bad}/response", {"response": "x"}), 404, "not_found")
        assert_4xx(admin_key.post(f"/api/v1/admin/disputes/{bad}/resolve", {"outcome": "upheld"}), 404, "not_found")
    unknown = "6f1c7c1e-6a55-4b5f-9a53-0d3c2a3f9e10"
    assert_4xx(seller_a.delete(f"/api/v1/flags/{unknown}"), 404, "not_found")
    assert_4xx(admin_key.post(f"/api/v1/admin/disputes/{unknown}/resolve", {"outcome": "upheld"}), 404, "not_found")


def test_a_tampered_audit_filter_is_400(admin_key):
    for bad in ("", "nope", "\x00", "6f1c7c1e-6a55-4b5f-9a53-0d3c2a3f9e1"):
        assert_4xx(admin_key.get("/api/v1/admin/audit", {"flag": bad}), 400, "validation_error")
    assert_4xx(admin_key.get("/api/v1/admin/audit"), 400, "validation_error")
