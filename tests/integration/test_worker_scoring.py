"""Flags reach the score through a real Celery worker on the real PostgreSQL and Redis."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from identity.models import Buyer
from scoring.models import BuyerScore
from scoring.tasks import sweep_unscored_buyers
from tests.conftest import make_persona, real_stack
from tests.stack import wait_for

pytestmark = [pytest.mark.integration, real_stack]


def _score_of(buyer_id):
    return BuyerScore.objects.filter(buyer_id=buyer_id).first()


def test_a_committed_flag_is_scored_by_the_worker(celery_worker, live_reasons):
    a, b = make_persona("A"), make_persona("B")
    for persona, ref in ((a, "A-1"), (b, "B-1")):
        response = persona.post(
            "/api/v1/flags", {"buyer": {"email": "w@example.com"}, "reason": "extortion", "order_ref": ref}
        )
        assert response.status_code == 201
    buyer = Buyer.objects.get()
    score = wait_for(
        lambda: (s := _score_of(buyer.pk)) and s.reporting_sellers == 2 and s, message="the worker's score"
    )
    assert score.reasons["extortion"]["sellers"] == 2
    assert score.score > 0
    wait_for(lambda: Buyer.objects.get(pk=buyer.pk).needs_score_since is None, message="the mark to clear")
    decision = b.post("/api/v1/decisions", {"buyer": {"email": "W@Example.com"}}).json()
    assert decision["reporting_sellers"] == 2
    assert decision["score_computed_at"] is not None


def test_the_sweep_recovers_a_buyer_whose_task_was_lost(celery_worker, live_reasons):
    """The task is published, then Redis is emptied before anyone runs it: the mark remains."""
    a = make_persona("A")
    celery_worker.stop()  # nobody consumes while we lose the task
    try:
        response = a.post(
            "/api/v1/flags", {"buyer": {"phone": "+4915112345678"}, "reason": "card_fraud", "order_ref": "L-1"}
        )
        assert response.status_code == 201
        redis.Redis.from_url(settings.REDIS_URL).flushdb()  # the queued task is gone
        buyer = Buyer.objects.get()
        assert buyer.needs_score_since is not None
        assert _score_of(buyer.pk) is None
        Buyer.objects.filter(pk=buyer.pk).update(needs_score_since=timezone.now() - timedelta(minutes=5))
    finally:
        celery_worker.start()
    sweep_unscored_buyers.delay()  # what beat sends every 30 s
    score = wait_for(lambda: _score_of(buyer.pk), message="the sweep to score the buyer")
    assert score.reasons["card_fraud"]["sellers"] == 1
    wait_for(lambda: Buyer.objects.get(pk=buyer.pk).needs_score_since is None, message="the mark to clear")
