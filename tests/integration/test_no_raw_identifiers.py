"""No raw buyer identifier reaches PostgreSQL, Redis or the logs — checked by dump and grep.

A full flow runs through the API (flags, a batch, a merge, a retraction, decisions, rejected
input) with distinctive identifiers; the real Celery worker scores it; then the whole test
database is dumped with pg_dump and searched for every identifier in every form we know.
"""

import logging
import shutil
import subprocess

import pytest
import redis
from django.conf import settings

from blacklist.models import Flag
from identity.identifiers import normalise_address, normalise_email, normalise_phone, normalise_platform_id
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from tests import stack
from tests.conftest import make_persona, real_stack

pytestmark = [pytest.mark.integration, real_stack]

EMAIL = "Jane.Rawflow+Q9@Example-Mail.com"
PHONE = "0151 2345 9876"
PHONE_INTERNATIONAL = "+49 151 23459876"
ADDRESS = "42 Rawflow Boulevard, Apartment 7, Springfield"
PLATFORM_ID = "Shopee:RawFlow88127"
FINGERPRINT = "fp_RAWFLOW_9c1e77"
NOTE_EMAIL = "Note.Rawflow@Mailbox.example"
NOTE_PHONE = "+44 20 7946 0958"
OTHER_EMAIL = "second.rawflow@example.net"
REJECTED_EMAIL = "rejected.rawflow7731-at-example.net"
BUYER = {
    "email": EMAIL,
    "phone": PHONE,
    "country": "DE",
    "address": ADDRESS,
    "platform_id": PLATFORM_ID,
    "payment_fingerprint": FINGERPRINT,
}


def needles():
    """Every raw identifier, its normalised form and the telling fragments of each."""
    phone = normalise_phone(PHONE, "DE")
    found = {
        EMAIL,
        normalise_email(EMAIL),
        "jane.rawflow",
        PHONE,
        PHONE_INTERNATIONAL,
        phone,
        phone.lstrip("+"),
        "015123459876",
        "23459876",
        ADDRESS,
        normalise_address(ADDRESS),
        "rawflow boulevard",
        "rawflow blvd",
        PLATFORM_ID,
        normalise_platform_id(PLATFORM_ID),
        "rawflow88127",
        FINGERPRINT,
        "9c1e77",
        NOTE_EMAIL,
        "note.rawflow",
        NOTE_PHONE,
        "7946 0958",
        "79460958",
        OTHER_EMAIL,
        "second.rawflow",
        REJECTED_EMAIL,
        "rawflow7731",
    }
    return sorted({n.casefold() for n in found})


def assert_clean(text, where):
    folded = text.casefold()
    leaked = [n for n in needles() if n in folded]
    assert not leaked, f"raw identifiers found in {where}: {leaked}"


def redis_dump():
    client = redis.Redis.from_url(settings.REDIS_URL)
    parts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1)
        else:
            value = kind
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def test_no_raw_identifier_is_stored_or_logged(celery_worker, live_reasons, caplog):
    caplog.set_level(logging.DEBUG)
    a, b = make_persona("Flow Seller A"), make_persona("Flow Seller B")

    # B knows the buyer only by platform id; A's flag names it with the rest (a lone link).
    first = b.post(
        "/api/v1/flags", {"buyer": {"platform_id": "shopee:rawflow88127"}, "reason": "card_fraud", "order_ref": "B-1"}
    )
    assert first.status_code == 201
    email_only = a.post(
        "/api/v1/flags", {"buyer": {"email": EMAIL.upper()}, "reason": "refund_abuse", "order_ref": "A-0"}
    )
    assert email_only.status_code == 201
    linked = a.post(
        "/api/v1/flags",
        {
            "buyer": BUYER,
            "reason": "extortion",
            "order_ref": "A-1",
            "note": f"Threatened us; wrote from {NOTE_EMAIL} and called {NOTE_PHONE}.",
        },
    )
    assert linked.status_code == 201

    batch = b.post(
        "/api/v1/flags/batch",
        {
            "flags": [
                {"buyer": {"phone": PHONE_INTERNATIONAL}, "reason": "non_payment", "order_ref": "B-2"},
                {"buyer": {"email": OTHER_EMAIL}, "reason": "other", "order_ref": "B-3"},
                {"buyer": {"email": REJECTED_EMAIL}, "reason": "other", "order_ref": "B-4"},
                {"buyer": {"payment_fingerprint": FINGERPRINT}, "reason": "nonsense", "order_ref": "B-5"},
            ]
        },
    )
    assert [r["status"] for r in batch.json()["results"]] == [201, 201, 400, 400]
    assert_clean(batch.content.decode(), "the batch response")

    rejected = a.post("/api/v1/flags", {"buyer": {"email": REJECTED_EMAIL}, "reason": "other", "order_ref": "A-9"})
    assert rejected.status_code == 400
    assert_clean(rejected.content.decode(), "an error response")

    retracted = a.delete(f"/api/v1/flags/{email_only.json()['id']}")
    assert retracted.status_code == 204

    # The worker scores every buyer and clears every mark.
    def all_scored():
        return (
            not Buyer.objects.filter(needs_score_since__isnull=False).exists()
            and BuyerScore.objects.count() == Buyer.objects.count() == 6
        )

    stack.wait_for(all_scored, timeout=60, message="the worker to score every buyer")

    for persona, buyer, reasons in (
        (a, {"platform_id": PLATFORM_ID}, {"card_fraud", "extortion"}),
        (b, {"email": EMAIL, "address": ADDRESS, "phone": PHONE_INTERNATIONAL}, {"extortion", "non_payment"}),
    ):
        response = persona.post("/api/v1/decisions", {"buyer": buyer, "order": {"ref": "X-1"}})
        assert response.status_code == 200
        decision = response.json()
        assert decision["reporting_sellers"] == 2
        assert {r["code"] for r in decision["reasons"]} == reasons
        assert_clean(response.content.decode(), "a decision")
    assert_clean(a.get("/api/v1/flags").content.decode(), "the flag list")

    # What we stored, stored as digests.
    assert Identifier.objects.count() == 6
    stored_note = Flag.objects.get(order_ref="A-1").note
    assert "[redacted]" in stored_note

    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check the database (apt-get install postgresql-client)"
    dump = subprocess.run(
        [pg_dump, "--no-owner", "--no-privileges", stack.test_database_url()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # The dump really holds the flow's data: its digests and notes are in there.
    assert Identifier.objects.first().digest in dump
    assert "Threatened us; wrote from [redacted]" in dump
    assert_clean(dump, "the database dump")

    assert_clean(redis_dump(), "Redis")

    log = celery_worker.process.log_path.read_text(errors="replace")
    assert "score_buyers" in log  # the worker did the scoring, and logged it
    assert_clean(log, "the worker's log")
    assert_clean(caplog.text, "the web process's log records")
