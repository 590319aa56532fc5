import os

from celery import Celery
from django.db import InterfaceError, OperationalError

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
