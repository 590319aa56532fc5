"""riskhub.postgresql: Django's PostgreSQL backend with psycopg's own loaders for timestamptz and
jsonb. The values must be exactly what Django's loaders answer: aware datetimes in UTC (tzinfo
`datetime.UTC`), JSON fields decoded once, NULLs as None."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from blacklist.models import AuditEvent, Flag
from blacklist.services.flags import flag_submit
from identity.models import Buyer
from riskhub.postgresql.base import UtcTimestamptzLoader
from scoring.models import BuyerScore
from tests.conftest import ids

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's own loaders"),
]


def _loader(type_name):
    from psycopg.pq import Format

    connection.ensure_connection()
    adapters = connection.connection.adapters
    return adapters.get_loader(adapters.types[type_name].oid, Format.TEXT)


def test_the_connection_loads_timestamps_and_json_with_psycopgs_own_loaders():
    from psycopg import adapters
    from psycopg.pq import Format

    assert _loader("timestamptz") is UtcTimestamptzLoader
    assert UtcTimestamptzLoader._loader is adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
    assert _loader("jsonb") is adapters.get_loader(adapters.types["text"].oid, Format.TEXT)
    with connection.cursor() as cursor:  # Django's create_cursor finds the zone it wants: no loader of its own
        assert cursor.cursor.adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT) is UtcTimestamptzLoader


def test_timestamps_read_back_as_djangos_aware_utc_datetimes():
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")  # what Django keeps (ensure_timezone)
        cursor.execute(
            "SELECT %s::timestamptz, %s::timestamptz + interval '1 day', NULL::timestamptz",
            [moment, moment],
        )
        first, second, missing = cursor.fetchone()
    assert first == moment and first.tzinfo is UTC
    assert second == moment + timedelta(days=1) and second.tzinfo is UTC
    assert missing is None


def test_models_round_trip_their_datetimes_and_json():
    buyer = Buyer.objects.create()
    moment = datetime(2025, 10, 26, 0, 59, 59, 999999, tzinfo=UTC)
    reasons = {"non_payment": {"sellers": 2, "last_flagged_at": moment.isoformat(), "voices": {"7": [0.5, 0, 0]}}}
    BuyerScore.objects.create(buyer=buyer, score=40, reporting_sellers=2, reasons=reasons, lapsed=0, computed_at=moment)
    read = BuyerScore.objects.get(buyer=buyer)
    assert read.computed_at == moment and read.computed_at.tzinfo is UTC
    assert read.reasons == reasons
    assert BuyerScore.objects.filter(computed_at__lt=moment + timedelta(microseconds=1)).count() == 1


def test_flag_and_audit_times_are_aware_utc(seller_a):
    flag, _ = flag_submit(
        seller=seller_a.seller, identifiers=ids(email="tz@example.com"), reason="refund_abuse", order_ref="TZ-1"
    )
    read = Flag.objects.get(pk=flag.pk)
    assert read.created_at.tzinfo is UTC and read.occurred_at.tzinfo is UTC
    assert abs(read.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    event = AuditEvent.objects.filter(flag_id=flag.pk).first()
    assert event is not None and event.created_at.tzinfo is UTC
