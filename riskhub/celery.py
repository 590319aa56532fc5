import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import InterfaceError, OperationalError, close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskhub.settings")

app = Celery("riskhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every task retries transient database errors with exponential backoff (tasks are idempotent).
RETRY_TRANSIENT = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 120,
    "max_retries": 8,
}


@task_prerun.connect
@task_postrun.connect
def _connections_checked(task=None, **kwargs):
    """Around each task, what Django does around each request: close a connection older than
    DB_CONN_MAX_AGE, or one an error left unusable, and keep the rest (settings.CELERY_DB_REUSE_MAX
    stops Celery's fixup from closing every connection instead). Not for a task run eagerly, inside
    its caller's request or transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()
