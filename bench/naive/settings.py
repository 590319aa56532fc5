"""The naive design the issue measured riskhub against, as `make bench`'s reference: a plain
Django app that stores each flag as a row with the buyer's identifiers in clear columns, takes
batches in with `bulk_create`, and aggregates the flags at request time to decide. No identity
graph, no idempotency, no audit, no scores, no identifier hashing, no phone normalisation: the
cheapest design that answers the same requests, served by the same gunicorn on the same database
server. It is bench code, never deployed (bench/run_bench.py, `bench_naive`)."""

import os

import dj_database_url

SECRET_KEY = "naive-bench-secret-not-for-production"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["naive"]
MIDDLEWARE = []
ROOT_URLCONF = "naive.urls"
WSGI_APPLICATION = "naive.wsgi.application"
# Persistent connections, as a tuned plain app would have them (the per-request connect is not
# the cost this reference is for).
DATABASES = {"default": dj_database_url.parse(os.environ["NAIVE_DATABASE_URL"], conn_max_age=None)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
