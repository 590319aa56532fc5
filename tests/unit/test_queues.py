"""Celery work is split into queues that can be scaled separately (riskhub/settings.py)."""

import pytest
from django.conf import settings

from identity.marks import SCORE_TASK
from riskhub.celery import app
from riskhub.queues import score_work_of_maintenance_jobs

QUEUES = {"scoring", "mail", "maintenance"}
EXPECTED = {
    SCORE_TASK: "scoring",  # sent by name from identity.marks
    "scoring.tasks.sweep_unscored_buyers": "scoring",
    "disputes.tasks.send_pending_dispute_notices": "mail",
    "disputes.tasks.send_appeal_code": "mail",
    "scoring.tasks.expire_flags": "maintenance",
    "scoring.tasks.recompute_seller_trust": "maintenance",
    "scoring.tasks.rescore_aging": "maintenance",
    "disputes.tasks.purge_expired_data": "maintenance",
}


def routed(name):
    """The queue, exchange and routing key a message for task `name` is published with."""
    queue = app.amqp.router.route({}, name)["queue"]
    return queue.name, queue.exchange.name, queue.routing_key


def riskhub_tasks():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every tasks.py
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@pytest.mark.parametrize(("task", "queue"), sorted(EXPECTED.items()))
def test_each_task_is_published_to_its_own_queue_only(task, queue):
    # Exchange and routing key are the queue's own: a message reaches that queue and no other.
    assert routed(task) == (queue, queue, queue)


def test_every_task_has_an_explicit_route():
    assert riskhub_tasks() == sorted(EXPECTED)
    fixed = next(routes for routes in settings.CELERY_TASK_ROUTES if isinstance(routes, dict))
    assert set(fixed) == set(EXPECTED)


def test_every_periodic_job_goes_to_a_declared_queue():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert routed(entry["task"])[0] in QUEUES


def test_a_worker_started_without_q_consumes_every_queue():
    # `celery worker` without -Q consumes app.amqp.queues, which is CELERY_TASK_QUEUES.
    assert set(app.amqp.queues) == QUEUES
    assert {(q.exchange.name, q.routing_key) for q in app.amqp.queues.values()} == {(q, q) for q in QUEUES}
    assert app.amqp.default_queue.name in QUEUES  # an unrouted task is never left unconsumed


def test_outside_a_worker_task_a_score_task_keeps_its_fixed_route():
    # What the web process does on commit: no job is running, so `scoring`.
    assert score_work_of_maintenance_jobs(SCORE_TASK, (), {}, {}) is None
    assert score_work_of_maintenance_jobs("scoring.tasks.expire_flags", (), {}, {}) is None


def test_bulk_score_work_waits_on_maintenance_and_a_single_flag_s_score_does_not():
    from riskhub.queues import BULK_BUYERS

    assert score_work_of_maintenance_jobs(SCORE_TASK, ([1, 2, 3],), {}, {}) is None  # fixed route: scoring
    bulk = list(range(BULK_BUYERS + 1))
    assert score_work_of_maintenance_jobs(SCORE_TASK, (bulk,), {}, {}) == {"queue": "maintenance"}
    assert app.amqp.router.route({}, SCORE_TASK, args=(bulk,))["queue"].name == "maintenance"
    assert app.amqp.router.route({}, SCORE_TASK, args=([7],))["queue"].name == "scoring"


@pytest.mark.parametrize("count", [1, 50, 51, 500, 501, 510, 1000, 1001, 2600, 250_001])
def test_a_wake_up_is_split_into_even_parts_that_all_keep_its_queue(count):
    from identity.marks import TASK_CHUNK, score_task_parts

    ids = list(range(count))
    parts = score_task_parts(ids)
    assert [pk for part in parts for pk in part] == ids
    assert max(map(len, parts)) <= TASK_CHUNK
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    queues = {app.amqp.router.route({}, SCORE_TASK, args=(part,))["queue"].name for part in parts}
    # A batch's 510 buyers are not a task of 500 and one of 10 that would pass for a single flag's.
    assert queues == {app.amqp.router.route({}, SCORE_TASK, args=(ids,))["queue"].name}


def test_no_buyers_no_task():
    from identity.marks import score_task_parts

    assert score_task_parts([]) == []


def test_a_score_task_is_named_by_its_size_not_by_its_ids():
    """The message carries every id; its headers (and so the workers' logs) say only how many:
    Celery's default repr of a thousand ids cost more than sending them (identity.marks)."""
    from celery.signals import before_task_publish

    from identity.marks import score_enqueue

    published = []

    def record(sender=None, headers=None, body=None, **kwargs):
        published.append((sender, headers["argsrepr"], body[0]))

    ids = list(range(10**12, 10**12 + 700))  # no such buyers: a worker that takes the task has nothing to do
    before_task_publish.connect(record)
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        score_enqueue(buyer_ids=ids)
    finally:
        app.conf.task_always_eager = eager
        before_task_publish.disconnect(record)
    assert [(name, shown) for name, shown, _ in published] == [(SCORE_TASK, "[350 buyers]")] * 2
    assert [pk for _, _, (part,) in published for pk in part] == ids
