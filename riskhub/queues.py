"""Which Celery queue a task goes to, beyond the fixed routes in settings.CELERY_TASK_ROUTES.

Score tasks normally go to `scoring`: they carry the scores that sellers' fresh flags asked for.
A maintenance job (aging, expiry, seller trust, retention) also sends score tasks: `rescore_aging`
alone sends one per 2,000 buyers for every scored buyer. Redis queues are first in, first out, so
on `scoring` those batches would sit ahead of every fresh flag's task for the length of the
rescore. Score tasks sent from inside a job that came off the `maintenance` queue therefore stay
on `maintenance`. So do score tasks for more than BULK_BUYERS buyers, whoever sends them: those
come from batch uploads and imports, and a flag filed one at a time — a seller waiting to see it
count — must not wait behind a marketplace's import.
"""

from celery import current_app

from identity.marks import SCORE_TASK

MAINTENANCE = "maintenance"
BULK_BUYERS = 50


def score_work_of_maintenance_jobs(name, args, kwargs, options, task=None, **kw):
    """A Celery router: `maintenance` for a bulk score task, or one sent while a maintenance job
    runs; else no opinion (the fixed route: `scoring`)."""
    if name != SCORE_TASK:
        return None
    buyer_ids = args[0] if args else (kwargs or {}).get("buyer_ids", ())
    if len(buyer_ids) > BULK_BUYERS:
        return {"queue": MAINTENANCE}
    sender = current_app.current_worker_task
    if sender is None:  # sent by a web process, a command, or eagerly
        return None
    if (sender.request.delivery_info or {}).get("routing_key") == MAINTENANCE:
        return {"queue": MAINTENANCE}
    return None
