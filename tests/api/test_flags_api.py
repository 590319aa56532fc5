"""The flag endpoints: submit, list, retract, batch."""

import uuid

import pytest
from django.test import override_settings

from blacklist.models import AuditEvent, Flag, FlagStatus

pytestmark = pytest.mark.django_db

FLAGS = "/api/v1/flags"
BATCH = "/api/v1/flags/batch"


def flag_body(email="buyer@example.com", reason="refund_abuse", order_ref="A-1", **extra):
    return {"buyer": {"email": email}, "reason": reason, "order_ref": order_ref, **extra}


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


# --- submit -------------------------------------------------------------------------------------


def test_a_new_flag_answers_201_and_a_resubmission_200_with_the_same_flag(seller_a):
    created = seller_a.post(FLAGS, flag_body(note="Kept the goods."))
    assert created.status_code == 201
    flag = created.json()
    assert flag["reason"] == "refund_abuse"
    assert flag["order_ref"] == "A-1"
    assert flag["status"] == "active"
    assert flag["created_at"]
    uuid.UUID(flag["id"])

    again = seller_a.post(FLAGS, flag_body(email=" BUYER@example.com "))
    assert again.status_code == 200
    assert again.json()["id"] == flag["id"]
    assert Flag.objects.count() == 1


def test_the_same_order_flagged_by_two_sellers_is_two_flags(seller_a, seller_b):
    assert seller_a.post(FLAGS, flag_body()).status_code == 201
    assert seller_b.post(FLAGS, flag_body()).status_code == 201
    assert Flag.objects.count() == 2


# --- list ---------------------------------------------------------------------------------------


def test_it_lists_own_flags_newest_first(seller_a):
    made = [seller_a.post(FLAGS, flag_body(order_ref=f"A-{n}")).json()["id"] for n in range(3)]
    response = seller_a.get(FLAGS)
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["results"]] == list(reversed(made))


def test_it_pages_with_a_cursor(seller_a):
    made = [seller_a.post(FLAGS, flag_body(order_ref=f"P-{n}")).json()["id"] for n in range(5)]
    seen, url, pages = [], FLAGS + "?page_size=2", 0
    while url:
        page = seller_a.get(url).json()
        assert len(page["results"]) <= 2
        seen += [f["id"] for f in page["results"]]
        url = page["next"]
        pages += 1
    assert pages == 3
    assert seen == list(reversed(made))


def test_it_filters_by_reason_and_status(seller_a):
    keep = seller_a.post(FLAGS, flag_body(reason="extortion", order_ref="F-1")).json()["id"]
    seller_a.post(FLAGS, flag_body(reason="card_fraud", order_ref="F-2"))
    gone = seller_a.post(FLAGS, flag_body(reason="extortion", order_ref="F-3")).json()["id"]
    assert seller_a.delete(f"{FLAGS}/{gone}").status_code == 204

    by_reason = seller_a.get(FLAGS, {"reason": "extortion"}).json()["results"]
    assert {f["id"] for f in by_reason} == {keep, gone}
    by_both = seller_a.get(FLAGS, {"reason": "extortion", "status": "active"}).json()["results"]
    assert [f["id"] for f in by_both] == [keep]
    retracted = seller_a.get(FLAGS, {"status": "retracted"}).json()["results"]
    assert [f["id"] for f in retracted] == [gone]


def test_a_forged_cursor_is_400(seller_a):
    response = seller_a.get(FLAGS, {"cursor": "o=abc"})
    assert_envelope(response, 400, "invalid_cursor")


def test_a_bad_status_filter_is_400(seller_a):
    response = seller_a.get(FLAGS, {"status": "deleted"})
    error = assert_envelope(response, 400, "validation_error")
    assert "status" in error["details"]


def test_an_outsider_never_sees_another_sellers_flags(seller_a, outsider):
    seller_a.post(FLAGS, flag_body(note="secret note"))
    assert outsider.get(FLAGS).json()["results"] == []
    assert outsider.get(FLAGS, {"status": "active"}).json()["results"] == []
    assert b"secret note" not in outsider.get(FLAGS).content


# --- retract ------------------------------------------------------------------------------------


def test_retracting_an_own_flag_answers_204_and_shows_it_retracted(seller_a):
    flag_id = seller_a.post(FLAGS, flag_body()).json()["id"]
    response = seller_a.delete(f"{FLAGS}/{flag_id}")
    assert response.status_code == 204
    assert response.content == b""
    listed = seller_a.get(FLAGS).json()["results"]
    assert [(f["id"], f["status"]) for f in listed] == [(flag_id, "retracted")]
    assert seller_a.delete(f"{FLAGS}/{flag_id}").status_code == 204


def test_retracting_another_sellers_flag_is_404_and_leaves_it_untouched(seller_a, seller_b):
    flag_id = seller_a.post(FLAGS, flag_body()).json()["id"]
    response = seller_b.delete(f"{FLAGS}/{flag_id}")
    assert_envelope(response, 404, "not_found")
    assert Flag.objects.get(pk=flag_id).status == FlagStatus.ACTIVE
    assert AuditEvent.objects.filter(flag_id=flag_id).count() == 1
    assert seller_a.get(FLAGS).json()["results"][0]["status"] == "active"


def test_retracting_an_unknown_flag_is_404(seller_a):
    flag_id = seller_a.post(FLAGS, flag_body()).json()["id"]
    assert_envelope(seller_a.delete(f"{FLAGS}/{uuid.uuid4()}"), 404, "not_found")
    assert_envelope(seller_a.delete(f"{FLAGS}/not-a-uuid"), 404, "not_found")
    assert Flag.objects.get(pk=flag_id).status == FlagStatus.ACTIVE


# --- batch --------------------------------------------------------------------------------------


def test_batch_items_stand_alone(seller_a):
    existing = seller_a.post(FLAGS, flag_body(order_ref="B-0")).json()["id"]
    items = [
        flag_body(order_ref="B-1"),
        flag_body(reason="no_such_reason", order_ref="B-2"),
        flag_body(order_ref="B-0"),
        {"buyer": {}, "reason": "extortion", "order_ref": "B-3"},
        flag_body(email="other@example.com", reason="extortion", order_ref="B-4"),
        flag_body(email="not-an-email", order_ref="B-5"),
    ]
    response = seller_a.post(BATCH, {"flags": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [201, 400, 200, 400, 201, 400]
    assert results[2]["id"] == existing
    for result in results:
        if result["status"] == 400:
            assert result["error"]["code"] == "validation_error"
            assert result["error"]["details"]
            assert "id" not in result
        else:
            assert Flag.objects.filter(pk=result["id"], seller=seller_a.seller).exists()
    assert "reason" in results[1]["error"]["details"]
    assert "email" in results[5]["error"]["details"]["buyer"]
    assert Flag.objects.count() == 3


def test_batch_items_that_are_not_objects_fail_alone(seller_a):
    items = ["a string", 42, ["a", "list"], None, True, flag_body(order_ref="N-1")]
    response = seller_a.post(BATCH, {"flags": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [400, 400, 400, 400, 400, 201]
    for result in results[:-1]:
        assert result["error"]["code"] == "validation_error"


def test_a_resubmitted_batch_answers_200_for_every_item(seller_a):
    items = [flag_body(order_ref=f"R-{n}") for n in range(3)]
    first = seller_a.post(BATCH, {"flags": items}).json()["results"]
    again = seller_a.post(BATCH, {"flags": items}).json()["results"]
    assert [r["status"] for r in first] == [201, 201, 201]
    assert [r["status"] for r in again] == [200, 200, 200]
    assert [r["id"] for r in again] == [r["id"] for r in first]


def test_a_batch_of_500_is_accepted(seller_a):
    items = [flag_body(email=f"bulk{n}@example.com", order_ref=f"K-{n}") for n in range(500)]
    response = seller_a.post(BATCH, {"flags": items})
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {201}
    assert Flag.objects.filter(seller=seller_a.seller).count() == 500


def test_a_batch_over_500_is_400(seller_a):
    items = [flag_body(order_ref=f"O-{n}") for n in range(501)]
    error = assert_envelope(seller_a.post(BATCH, {"flags": items}), 400, "validation_error")
    assert "flags" in error["details"]
    assert not Flag.objects.exists()


@override_settings(FLAG_BATCH_MAX=2)
def test_the_batch_limit_comes_from_settings(seller_a):
    items = [flag_body(order_ref=f"S-{n}") for n in range(3)]
    assert_envelope(seller_a.post(BATCH, {"flags": items}), 400, "validation_error")


@pytest.mark.parametrize("body", [{"flags": []}, {}, {"flags": "x"}, {"flags": {"0": {}}}, []])
def test_an_empty_or_malformed_batch_is_400(seller_a, body):
    assert_envelope(seller_a.post(BATCH, body), 400, "validation_error")
    assert not Flag.objects.exists()
