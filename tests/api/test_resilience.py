"""Edges found while reviewing: no HTML under /api/, no outage cascade, lenient country case."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError
from django.test import Client, override_settings

from riskhub.env import env_rate
from riskhub.errors import error_parts

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_unknown_api_paths_answer_json_404_even_with_csrf_checks_on(db):
    client = Client(enforce_csrf_checks=True)
    for method in ("get", "post", "delete", "put"):
        response = getattr(client, method)("/api/v1/flags/not-a-uuid")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_the_api_keeps_answering_when_the_rate_limiters_redis_is_down(seller_a, caplog):
    with override_settings(CACHES=DEAD_REDIS):
        response = seller_a.post("/api/v1/decisions", {"buyer": {"email": "up@example.com"}})
    assert response.status_code == 200
    assert response.json()["decision"] == "ship"
    assert "rate limiter unavailable" in caplog.text


def test_country_hints_are_accepted_in_any_case(seller_a):
    body = {"buyer": {"phone": "030 1234567", "country": "de"}, "reason": "other", "order_ref": "C-1"}
    assert seller_a.post("/api/v1/flags", body).status_code == 201
    same = {"buyer": {"phone": "+49 30 1234567"}, "reason": "other", "order_ref": "C-1"}
    assert seller_a.post("/api/v1/flags", same).status_code == 200


@pytest.mark.parametrize("rate", ["ten/min", "5/fortnight", "0/min", "/min"])
def test_a_malformed_rate_limit_setting_fails_at_start_up(monkeypatch, rate):
    monkeypatch.setenv("RATE_LIMIT_DECISIONS", rate)
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_DECISIONS"):
        env_rate("RATE_LIMIT_DECISIONS", "6000/min")


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_database_error_past_the_retries_is_a_retryable_503(error):
    status, body, headers = error_parts(error)
    assert status == 503
    assert body["error"]["code"] == "temporarily_unavailable"
    assert "server closed" not in body["error"]["message"]
    assert headers == {"Retry-After": "1"}
