"""End to end over HTTP: real gunicorn and a real Celery worker on the real PostgreSQL and Redis.

Nothing here uses the Django test client: every request goes through `gunicorn riskhub.wsgi`
over a socket, exactly as an integration would send it.
"""

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from blacklist.services.keys import seller_create
from identity.models import Buyer
from scoring.models import BuyerScore
from scoring.tasks import sweep_unscored_buyers
from tests import stack
from tests.conftest import real_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

DECISION_FIELDS = {
    "decision",
    "conditions",
    "score",
    "reporting_sellers",
    "reasons",
    "own_flags",
    "explanation",
    "score_computed_at",
}


class Http:
    """A tiny urllib client: (status, headers, parsed JSON body or raw text)."""

    def __init__(self, base_url, key=None):
        self.base_url = base_url
        self.key = key

    def send(self, method, path, body=None, *, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Accept": "application/json"}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        if self.key:
            all_headers["Authorization"] = f"Bearer {self.key}"
        all_headers.update(headers or {})
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                status, response_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, response_headers, payload = exc.code, exc.headers, exc.read()
        text = payload.decode()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, response_headers, parsed

    def post(self, path, body=None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def get(self, path, **kwargs):
        return self.send("GET", path, **kwargs)


def seller_http(gunicorn, name):
    """A committed seller with a fresh key, and a client speaking for it."""
    seller, raw = seller_create(name=name)
    return seller, Http(gunicorn.url, raw)


def flag_body(buyer, reason, order_ref, **extra):
    return {"buyer": buyer, "reason": reason, "order_ref": order_ref, **extra}


def decide(client, buyer, order=None):
    body = {"buyer": buyer}
    if order:
        body["order"] = order
    status, _, decision = client.post("/api/v1/decisions", body)
    assert status == 200, decision
    return decision


def wait_for_decision(client, buyer, predicate, message, timeout=60):
    """Poll the decision over HTTP until the worker's score shows in it."""
    return stack.wait_for(lambda: (d := decide(client, buyer)) and predicate(d) and d, timeout=timeout, message=message)


def assert_iso_with_timezone(value):
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value


def assert_is_envelope(body, code):
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_flags_sent_over_http_reach_every_seller_s_decision_through_the_worker(gunicorn, celery_worker, live_reasons):
    a_seller, a = seller_http(gunicorn, "E2E Seller A")
    _, b = seller_http(gunicorn, "E2E Seller B")
    _, c = seller_http(gunicorn, "E2E Seller C")
    _, d = seller_http(gunicorn, "E2E Seller D")  # never flags: sees the others only as counts
    buyer = {"email": "E2E.Buyer@Example.com"}
    same_buyer_other_spelling = {"email": "  e2e.buyer@example.COM "}
    courier_trouble = {"platform_id": "shopee:99887766"}

    status, _, a_flag = a.post("/api/v1/flags", flag_body(buyer, "extortion", "A-1", note="Threatened a chargeback."))
    assert status == 201, a_flag
    assert {"id", "reason", "order_ref", "status", "created_at"} <= set(a_flag)
    assert (a_flag["reason"], a_flag["order_ref"], a_flag["status"]) == ("extortion", "A-1", "active")
    status, _, again = a.post("/api/v1/flags", flag_body(buyer, "extortion", "A-1"))
    assert status == 200, "the same seller + buyer + reason + order_ref is idempotent"
    assert again["id"] == a_flag["id"]

    status, _, b_flag = b.post("/api/v1/flags", flag_body(same_buyer_other_spelling, "card_fraud", "B-7"))
    assert status == 201, b_flag

    status, _, batch = c.post(
        "/api/v1/flags/batch",
        {
            "flags": [
                flag_body(buyer, "extortion", "C-1"),
                flag_body(courier_trouble, "cod_refusal", "C-2"),
                flag_body(buyer, "no_such_reason", "C-3"),
                flag_body({"email": "not-an-email"}, "other", "C-4"),
            ]
        },
    )
    assert status == 200, batch
    assert [(r["index"], r["status"]) for r in batch["results"]] == [(0, 201), (1, 201), (2, 400), (3, 400)]
    assert all("id" in r for r in batch["results"][:2])
    assert batch["results"][2]["error"]["code"] == "validation_error"
    assert "not-an-email" not in json.dumps(batch), "an error never echoes an identifier"

    # The decision reads only the precomputed score: it changes once the worker has run.
    decision = wait_for_decision(
        d,
        buyer,
        lambda x: x["score_computed_at"] is not None and x["reporting_sellers"] == 3,
        "the worker's score of the buyer flagged by three sellers",
    )
    assert set(decision) >= DECISION_FIELDS
    assert decision["decision"] in ("ship", "review", "no_ship")
    assert 0 < decision["score"] <= 100
    assert isinstance(decision["conditions"], list)
    assert decision["own_flags"] == []
    assert isinstance(decision["explanation"], str) and decision["explanation"]
    assert_iso_with_timezone(decision["score_computed_at"])
    counts = {r["code"]: r["sellers"] for r in decision["reasons"]}
    assert counts == {"extortion": 2, "card_fraud": 1}
    for reason in decision["reasons"]:
        assert {"code", "label", "sellers", "last_flagged_at"} <= set(reason)
        assert reason["label"]
        assert_iso_with_timezone(reason["last_flagged_at"])
    text = json.dumps(decision)
    for secret in ("E2E Seller", a_flag["id"], b_flag["id"], "chargeback", "e2e.buyer"):
        assert secret not in text, "other sellers appear only as counts"

    # The asking seller's own flag is listed and (default policy) blocks shipping for that seller.
    own = decide(a, same_buyer_other_spelling)
    assert own["score"] == decision["score"]
    assert own["reporting_sellers"] == 3
    assert {r["code"]: r["sellers"] for r in own["reasons"]} == counts, "own flags are included in the counts"
    assert [(f["id"], f["reason"], f["order_ref"]) for f in own["own_flags"]] == [(a_flag["id"], "extortion", "A-1")]
    assert_iso_with_timezone(own["own_flags"][0]["created_at"])
    assert own["decision"] == "no_ship"
    assert a_seller.name not in json.dumps(own)

    # A logistics reason adds a shipping condition for cash on delivery, not a score.
    courier = wait_for_decision(
        d, courier_trouble, lambda x: x["score_computed_at"] is not None, "the worker's score of the second buyer"
    )
    assert courier["score"] == 0
    assert [r["code"] for r in courier["reasons"]] == ["cod_refusal"]
    cod = decide(d, courier_trouble, order={"ref": "D-1", "payment_method": "cod", "value": "20.00", "currency": "EUR"})
    assert cod["decision"] == "ship"
    assert cod["conditions"] == ["prepaid_only"]

    unknown = decide(d, {"phone": "+4915199999999"})
    assert (unknown["decision"], unknown["score"], unknown["reasons"]) == ("ship", 0, [])
    assert unknown["score_computed_at"] is None


def test_a_flag_sent_while_the_worker_is_dead_is_scored_once_it_is_back(gunicorn, celery_worker, live_reasons):
    _, a = seller_http(gunicorn, "Crash Seller A")
    _, b = seller_http(gunicorn, "Crash Seller B")
    buyer = {"phone": "+49 151 23456789"}

    celery_worker.kill()  # SIGKILL: no graceful shutdown, as in a crash
    try:
        status, _, flag = a.post("/api/v1/flags", flag_body(buyer, "card_fraud", "K-1"))
        assert status == 201, flag
        marked = Buyer.objects.get()
        assert marked.needs_score_since is not None, "the flag's transaction marked the buyer"
        assert not BuyerScore.objects.filter(buyer=marked).exists()
        before = decide(b, buyer)
        assert (before["score"], before["reporting_sellers"], before["score_computed_at"]) == (0, 0, None)
        # As if the worker had stayed down past the sweep delay.
        past = timezone.now() - settings.SCORE_SWEEP_AFTER - timedelta(seconds=5)
        Buyer.objects.filter(pk=marked.pk).update(needs_score_since=past)
    finally:
        celery_worker.start()
    sweep_unscored_buyers.delay()  # what beat sends every SWEEP_INTERVAL_SECONDS

    after = wait_for_decision(
        b,
        {"phone": "0151 23456789", "country": "DE"},
        lambda x: x["score_computed_at"] is not None,
        "the restarted worker to score the buyer",
    )
    assert after["reporting_sellers"] == 1
    assert [(r["code"], r["sellers"]) for r in after["reasons"]] == [("card_fraud", 1)]
    assert after["score"] > 0
    stack.wait_for(
        lambda: Buyer.objects.get(pk=marked.pk).needs_score_since is None, message="the buyer's mark to clear"
    )


def test_gunicorn_reports_ready(gunicorn):
    status, _, body = Http(gunicorn.url).get("/readyz")
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok"}


def test_bad_requests_through_gunicorn_answer_4xx_in_the_envelope(gunicorn, live_reasons):
    _, client = seller_http(gunicorn, "Careless Seller")

    status, headers, body = client.post("/api/v1/flags", raw=b'{"buyer": {"email": "x@example.com"},')
    assert status == 400, body
    assert headers["Content-Type"].startswith("application/json")
    assert_is_envelope(body, "malformed_request")

    status, _, body = client.post("/api/v1/decisions", raw=b"\xff\xfe not utf-8")
    assert status == 400, body
    assert_is_envelope(body, "malformed_request")

    status, _, body = client.post("/api/v1/flags/batch", raw=b"[1, 2")
    assert status == 400, body
    assert_is_envelope(body, "malformed_request")

    too_big = json.dumps({"flags": [], "padding": "x" * settings.MAX_REQUEST_BYTES}).encode()
    status, _, body = client.post("/api/v1/flags/batch", raw=too_big)
    assert status == 413, body
    assert_is_envelope(body, "payload_too_large")

    status, _, body = Http(gunicorn.url, "rh_not-a-real-key").post("/api/v1/decisions", {"buyer": {"email": "a@b.co"}})
    assert status == 401, body
    assert_is_envelope(body, "unauthenticated")

    status, _, body = client.get("/api/v1/no-such-endpoint")
    assert status == 404, body
    assert_is_envelope(body, "not_found")


def test_a_revoked_key_is_refused_by_every_worker_within_a_second(gunicorn, celery_worker, live_reasons):
    """Keys are cached per process for API_KEY_CACHE_MS (1 s): revoking one in the database, as
    another process would, takes effect in both gunicorn workers once that time has passed."""
    from blacklist.models import ApiKey
    from blacklist.services.keys import key_digest

    seller, key = seller_create(name="Cached")
    client = Http(gunicorn.url, key)
    for _ in range(20):  # both workers have the key cached now
        assert client.get("/api/v1/flags")[0] == 200
    ApiKey.objects.filter(digest=key_digest(key)).update(revoked_at=timezone.now())
    time.sleep(settings.API_KEY_CACHE_SECONDS + 0.2)
    assert [client.get("/api/v1/flags")[0] for _ in range(20)] == [401] * 20


def test_a_rate_limit_holds_across_workers(live_reasons):
    """Two gunicorn workers lease units from one shared bucket: together they admit the limit
    (300 an hour, so a lease is 3 units) and not one request more, and the units a worker still
    holds when the bucket runs dry are at most its lease."""
    from concurrent.futures import ThreadPoolExecutor

    limit, per_unit_s = 300, 3600 / 300
    server = stack.start_gunicorn(workers=2, RATE_LIMIT_DECISIONS=f"{limit}/hour")
    try:
        _, key = seller_create(name="Limited")
        client = Http(server.url, key)
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(
                pool.map(
                    lambda i: client.post("/api/v1/decisions", {"buyer": {"email": f"r{i}@example.com"}})[0],
                    range(limit + 60),
                )
            )
        refilled = int((time.monotonic() - began) / per_unit_s)
    finally:
        server.stop()
    assert set(statuses) == {200, 429}
    admitted = statuses.count(200)
    assert limit - 2 * 3 <= admitted <= limit + refilled, admitted


def test_a_database_restart_costs_decisions_nothing_without_a_health_check(live_reasons):
    """Connections are reused without a `SELECT 1` per request (DB_CONN_HEALTH_CHECKS=false). When
    PostgreSQL drops them (as in a restart), a decision runs once more on a new connection and
    answers 200; a read that is not retried answers 503 temporarily_unavailable, Retry-After: 1,
    once, and the next one is served on a new connection."""
    from django.db import connection

    app_name = f"riskhub-restart-{time.monotonic_ns()}"
    server = stack.start_gunicorn(workers=1, PGAPPNAME=app_name)
    try:
        _, key = seller_create(name="Restarted")
        client = Http(server.url, key)

        def drop_connections():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                    [app_name],
                )
                return cursor.fetchone()[0]

        assert decide(client, {"email": "warm@example.com"})["decision"] == "ship"
        assert drop_connections() == 1
        assert decide(client, {"email": "after@example.com"})["decision"] == "ship"
        assert drop_connections() == 1
        status, headers, body = client.get("/api/v1/flags")
        assert status == 503, body
        assert_is_envelope(body, "temporarily_unavailable")
        assert headers["Retry-After"] == "1"
        assert client.get("/api/v1/flags")[0] == 200
    finally:
        server.stop()
