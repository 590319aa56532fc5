"""The broker transport (riskhub.broker): kombu's Redis channel, publishing through one client.

Real Redis. The messages are published to a queue of this test's own, declared on the app's
broker connection, and read back from Redis as kombu stores them (one list per queue).
"""

import uuid

import pytest
import redis
from django.conf import settings
from kombu import Exchange, Producer, Queue

from riskhub import broker
from riskhub.celery import app
from tests.conftest import real_stack

pytestmark = [pytest.mark.integration, real_stack]


@pytest.fixture
def queue():
    name = f"test-broker-{uuid.uuid4().hex[:8]}"
    yield Queue(name, Exchange(name, type="direct"), routing_key=name)
    redis.Redis.from_url(settings.REDIS_URL).delete(name)


def test_the_app_publishes_through_the_riskhub_transport():
    assert settings.CELERY_BROKER_TRANSPORT == "riskhub.broker:Transport"
    with app.connection_for_write() as connection:
        assert isinstance(connection.default_channel, broker.Channel)


def test_messages_arrive_and_share_one_client_until_the_pool_is_replaced(queue):
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        producer = Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key)
        queue(channel).declare()
        for n in range(3):
            producer.publish({"n": n})
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.connection_pool is channel.pool

        # kombu drops its pools after a fork and on close; the next publish must not use the old one.
        old_pool = channel.pool
        channel._disconnect_pools()
        with channel.conn_or_acquire() as client:
            assert client.connection_pool is channel.pool
            assert client.connection_pool is not old_pool
            client.lpush(queue.name, "after the pool was replaced")

    stored = redis.Redis.from_url(settings.REDIS_URL).lrange(queue.name, 0, -1)
    assert len(stored) == 4
    assert stored[0] == b"after the pool was replaced"


def test_an_explicit_client_is_used_as_given():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        given = redis.Redis.from_url(settings.REDIS_URL)
        with channel.conn_or_acquire(given) as client:
            assert client is given
