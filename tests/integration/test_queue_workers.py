"""Workers per queue: `-Q scoring` only scores; a worker without -Q consumes every queue; the
score batches of a maintenance job stay on `maintenance`.

Real Redis, real worker processes. The session worker (no -Q) is stopped while the scoring-only
worker runs, so nothing else can take the messages, and started again at the end — when it must
drain the queues the scoring worker left alone.
"""

import pytest
import redis
from django.conf import settings

from blacklist.services.flags import flag_submit
from disputes.tasks import send_pending_dispute_notices
from scoring.models import BuyerScore
from scoring.tasks import expire_flags, rescore_aging
from tests import scale_stack, stack
from tests.conftest import ids, real_stack
from tests.factories import SellerFactory

pytestmark = [pytest.mark.integration, real_stack]


def queued(broker, name):
    """Messages waiting in a queue (kombu's Redis transport keeps each queue as a list)."""
    return broker.llen(name)


def active_queues(worker):
    from riskhub.celery import app

    found = app.control.inspect(destination=[worker.node], timeout=2.0).active_queues() or {}
    return sorted(q["name"] for q in found.get(worker.node, []))


def test_a_worker_on_the_scoring_queue_scores_and_leaves_mail_and_maintenance(celery_worker, live_reasons):
    broker = redis.Redis.from_url(settings.REDIS_URL)
    celery_worker.stop()
    scorer = None
    try:
        before = {name: queued(broker, name) for name in ("mail", "maintenance")}
        scorer = scale_stack.start_worker("scoring-only", queues=["scoring"])
        assert active_queues(scorer) == ["scoring"]

        send_pending_dispute_notices.delay()
        expire_flags.delay()
        seller = SellerFactory()
        flag_submit(
            seller=seller,
            identifiers=ids(email="queued.buyer@example.com"),
            reason="extortion",
            order_ref="Q-1",
        )
        stack.wait_for(lambda: BuyerScore.objects.filter(reporting_sellers=1).exists(), message="the scoring worker")
        scale_stack.wait_worker_quiet(scorer)
        assert {name: queued(broker, name) for name in before} == {name: n + 1 for name, n in before.items()}
        assert received_tasks(scorer) == {"scoring.tasks.score_buyers"}
    finally:
        if scorer is not None:
            scorer.stop()
        celery_worker.start()
    # The default worker (no -Q) consumes every queue: it drains what the scoring worker left.
    stack.wait_for(
        lambda: queued(broker, "mail") == 0 and queued(broker, "maintenance") == 0,
        message="the default worker to consume mail and maintenance",
    )
    stack.wait_worker_idle(celery_worker.process)


def received_tasks(worker):
    log = worker.log_path.read_text(errors="replace")
    return {line.split("Task ", 1)[1].split("[")[0] for line in log.splitlines() if "] received" in line}


def test_a_maintenance_job_s_score_batches_stay_on_the_maintenance_queue(celery_worker, live_reasons):
    """rescore_aging (maintenance) sends one score task per chunk of buyers: a worker on
    `maintenance` alone runs them, and `scoring` holds only the fresh flag's own task."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    celery_worker.stop()
    background = None
    try:
        waiting = queued(broker, "scoring")
        background = scale_stack.start_worker("maintenance-only", queues=["maintenance"])
        flag_submit(
            seller=SellerFactory(),
            identifiers=ids(email="aging.buyer@example.com"),
            reason="extortion",
            order_ref="M-1",
        )
        assert queued(broker, "scoring") == waiting + 1  # the flag's wake-up: no scoring worker runs
        assert not BuyerScore.objects.exists()
        rescore_aging.delay()
        stack.wait_for(lambda: BuyerScore.objects.filter(reporting_sellers=1).exists(), message="the aging rescore")
        scale_stack.wait_worker_quiet(background)
        assert received_tasks(background) == {"scoring.tasks.rescore_aging", "scoring.tasks.score_buyers"}
        assert queued(broker, "scoring") == waiting + 1
    finally:
        if background is not None:
            background.stop()
        celery_worker.start()
    stack.wait_for(lambda: queued(broker, "scoring") == 0, message="the default worker to drain scoring")
    stack.wait_worker_idle(celery_worker.process)
