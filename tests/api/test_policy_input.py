"""PUT /api/v1/policy: documented defaults for omitted fields, no guessing at types."""

import pytest

from scoring.policy import Policy

pytestmark = pytest.mark.django_db
POLICY = "/api/v1/policy"


def test_omitted_fields_take_the_documented_defaults(seller_a):
    response = seller_a.put(POLICY, {"review_at": 30})
    assert response.status_code == 200, response.json()
    default = Policy()
    assert response.json() == {
        "review_at": 30,
        "no_ship_at": default.no_ship_at,
        "own_flags_block": True,
        "reason_overrides": {},
    }
    assert seller_a.get(POLICY).json() == response.json()


def test_an_empty_body_is_the_default_policy(seller_a):
    seller_a.put(POLICY, {"review_at": 10, "no_ship_at": 20, "own_flags_block": False})
    response = seller_a.put(POLICY, {})
    assert response.status_code == 200
    assert response.json()["own_flags_block"] is True
    assert (response.json()["review_at"], response.json()["no_ship_at"]) == (Policy().review_at, Policy().no_ship_at)


@pytest.mark.parametrize(
    "body",
    [
        {"review_at": "10"},
        {"no_ship_at": "90"},
        {"review_at": 10.0},
        {"review_at": 10.5},
        {"review_at": True},
        {"own_flags_block": "yes"},
        {"own_flags_block": "true"},
        {"own_flags_block": 1},
        {"own_flags_block": "0"},
        {"own_flags_block": None},
        {"reason_overrides": {"other": "skip"}},
        {"reason_overrides": ["other"]},
        {"review_at": 80, "no_ship_at": 70},
        {"review_at": -1},
        {"no_ship_at": 101},
    ],
)
def test_strings_floats_and_truthy_values_are_refused(seller_a, body):
    response = seller_a.put(POLICY, body)
    assert response.status_code == 400, (body, response.json())
    assert response.json()["error"]["code"] == "validation_error"
