"""riskhub settings: everything comes from environment variables.

With nothing set, riskhub runs on safe local defaults (SQLite, in-memory cache, Celery tasks
run in-process) — but only with DEBUG on; secrets have no production default.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from riskhub.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)


def _secret(name):
    value = env_str(name)
    if value:
        return value
    if DEBUG:
        return f"insecure-local-{name.lower()}-do-not-use-in-production"
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")


SECRET_KEY = _secret("SECRET_KEY")
# Server key for the HMAC-SHA-256 digests of buyer identifiers. Rotating it orphans every
# stored identifier, so treat it like a database encryption key.
IDENTIFIER_KEY = _secret("IDENTIFIER_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

# --- Behind a proxy (see docs/operations.md, "HTTPS behind a proxy") -------------------------
# Whom to believe about the client's address (riskhub.clientip): proxies by address or network,
# or a fixed count of proxies in front of the web process. Neither: the socket address only.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
try:
    [ipaddress.ip_network(entry, strict=False) for entry in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# "HEADER,value": the header a TLS-terminating proxy sets on HTTPS requests, e.g.
# "X-Forwarded-Proto,https". Set it only when the proxy always overwrites that header.
_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _ssl_header:
    if len(_ssl_header) != 2:
        raise ImproperlyConfigured(
            'SECURE_PROXY_SSL_HEADER must be "Header-Name,value", e.g. "X-Forwarded-Proto,https"'
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _ssl_header[0].upper().replace("-", "_"), _ssl_header[1])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes speak plain HTTP inside
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "identity",
    "blacklist",
    "scoring",
    "disputes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "riskhub.middleware.PageMiddleware",  # runs PAGE_MIDDLEWARE for every path but the API's
]
# The web pages' own middleware, skipped for the JSON API and the probes (riskhub.middleware).
PAGE_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin and django-axes look for their middleware in MIDDLEWARE; they are in PAGE_MIDDLEWARE,
# which every page (the admin's included) runs (tests/console/test_pages_and_security.py).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "axes.W002"]

ROOT_URLCONF = "riskhub.urls"
WSGI_APPLICATION = "riskhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:  # the embedded default for a local run
    VAR_DIR.mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'riskhub.sqlite3'}"

# --- Scaling: PgBouncer, a read replica (riskhub/routers.py, docs/scaling.md) -------------------
# DB_PGBOUNCER=true: DATABASE_URL (and DATABASE_REPLICA_URL) point at PgBouncer in transaction
# mode, where consecutive transactions of one client may run on different server connections.
# Two things psycopg/Django keep per server session then break: named prepared statements
# (psycopg prepares a query after DB_PREPARE_THRESHOLD runs; the next transaction lands on a server
# that never saw it — "prepared statement _pg3_0 does not exist / already exists") and WITH HOLD
# server-side cursors (QuerySet.iterator() outside a transaction). Both are turned off. Everything
# else riskhub keeps on a connection is transaction-scoped: the graph lock is
# pg_advisory_xact_lock(_shared), row locks are FOR UPDATE inside atomic blocks, and the time zone
# is a parameter PgBouncer tracks per client.
DB_PGBOUNCER = env_bool("DB_PGBOUNCER", False)
if DB_PGBOUNCER and env_str("DB_PREPARE_THRESHOLD", "").strip():
    raise ImproperlyConfigured("DB_PREPARE_THRESHOLD cannot be set with DB_PGBOUNCER=true (nothing is prepared)")
# How PostgreSQL plans a prepared statement (its plan_cache_mode, set for riskhub's connections).
# Left to PostgreSQL ("auto"), a statement is planned again at every execution whenever the plans
# it made for its first values looked cheaper than its generic plan, which can last for the
# connection's life: in 2 of 10 `make bench` runs, a gunicorn worker planned the decision read
# afresh every time, doubling its PostgreSQL CPU (docs/benchmarks.md). riskhub's prepared
# statements are written to be planned once whatever their values (riskhub.rows); "auto" restores
# PostgreSQL's default. Not sent behind PgBouncer, where nothing is prepared.
DB_PLAN_CACHE_MODE = env_str("DB_PLAN_CACHE_MODE", "force_generic_plan")
if DB_PLAN_CACHE_MODE not in ("force_generic_plan", "auto", "force_custom_plan"):
    raise ImproperlyConfigured("DB_PLAN_CACHE_MODE must be force_generic_plan, auto or force_custom_plan")


def database_from_url(url):
    """One DATABASES entry from a URL, with riskhub's connection options (default and replica alike)."""
    # No `SELECT 1` before each request's first query by default: that round trip was a sixth of a
    # decision's time (docs/benchmarks.md). A connection that died meanwhile fails its first query;
    # decisions and flag writes run once more on a new one (riskhub.db.retried), and any other
    # request answers 503 temporarily_unavailable, Retry-After: 1 (riskhub.errors).
    config = dj_database_url.parse(
        url,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Bind parameters on the server and prepare statements a connection runs repeatedly: the
        # decision path runs the same few queries on every request, and PostgreSQL then plans them
        # once. Behind PgBouncer (above) nothing is prepared (prepare_threshold=None).
        config.setdefault("OPTIONS", {}).update(
            server_side_binding=env_bool("DB_SERVER_SIDE_BINDING", True),
            prepare_threshold=None if DB_PGBOUNCER else env_int("DB_PREPARE_THRESHOLD", 5, minimum=0),
        )
        if not DB_PGBOUNCER and DB_PLAN_CACHE_MODE != "auto":
            given = config["OPTIONS"].get("options", "")  # the URL's own ?options=…, kept
            config["OPTIONS"]["options"] = f"{given} -c plan_cache_mode={DB_PLAN_CACHE_MODE}".strip()
        config["DISABLE_SERVER_SIDE_CURSORS"] = DB_PGBOUNCER
        config["ENGINE"] = "riskhub.postgresql"  # Django's, with psycopg's C loaders (riskhub/postgresql/base.py)
    elif DB_PGBOUNCER:
        raise ImproperlyConfigured("DB_PGBOUNCER=true needs a PostgreSQL DATABASE_URL")
    return config


DATABASES = {"default": database_from_url(DATABASE_URL)}


# DATABASE_REPLICA_URL: a streaming replica of the same PostgreSQL. Only reads that say they may
# lag go there (riskhub.routers: today the score rows of a decision); writes, migrations, the
# asking seller's own flags and policy, and every other read stay on the primary. Tests run the
# alias as a mirror of the test database.
def replica_database_from_url(url):
    # No health check: a replica read that fails is read again on the primary (riskhub.routers),
    # so checking first would only add a round trip to every decision.
    return database_from_url(url) | {"CONN_HEALTH_CHECKS": False, "TEST": {"MIRROR": "default"}}


DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
# After a failed replica read, a process reads from the primary for this long before trying again.
DATABASE_REPLICA_RETRY_SECONDS = env_int("DATABASE_REPLICA_RETRY_SECONDS", 10, minimum=0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database_from_url(DATABASE_REPLICA_URL)
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the same database engine as DATABASE_URL")
DATABASE_ROUTERS = ["riskhub.routers.PrimaryReplicaRouter"]
# --- end of the scaling block ------------------------------------------------------------------

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, rate limits, Celery broker ------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The most a request waits on a Redis that stopped answering (the cache and the rate limits,
# which then fail open); RATE_LIMIT_BREAKER_SECONDS later the limiter tries Redis again.
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT_MS", 250, minimum=10) / 1000
RATE_LIMIT_BREAKER_SECONDS = env_int("RATE_LIMIT_BREAKER_SECONDS", 5, minimum=0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "riskhub",
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport, publishing through one client per channel instead of a new one per
# message (riskhub.broker). Other URL schemes (rediss://, sentinel) keep kombu's own transport.
CELERY_BROKER_TRANSPORT = "riskhub.broker:Transport" if (REDIS_URL or "").startswith("redis://") else None
# Without a broker the tasks run in-process, right after the transaction commits.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task is only gone from Redis once it has finished
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and is redelivered if its worker died
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Database connections in the workers live as long as in the web processes (DB_CONN_MAX_AGE):
# Celery's Django fixup closes them before and after every task unless this is set, and then
# every 2 × this many tasks; riskhub.celery checks them around each task as Django does around
# each request. A connection per task cost a one-buyer score task more PostgreSQL CPU than its
# statements did (docs/benchmarks.md).
CELERY_DB_REUSE_MAX = 10_000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens after the flag is committed; a broker outage must not hold the request for
# long: the dirty mark in PostgreSQL plus the sweep guarantee the score is computed anyway.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5}
CELERY_BEAT_SCHEDULE = {
    "disputes-purge-expired-data": {
        "task": "disputes.tasks.purge_expired_data",
        "schedule": timedelta(hours=env_int("RETENTION_PURGE_INTERVAL_HOURS", 24, minimum=1)),
    },
    "disputes-send-pending-notices": {
        "task": "disputes.tasks.send_pending_dispute_notices",
        "schedule": timedelta(minutes=5),
    },
    "sweep-unscored-buyers": {
        "task": "scoring.tasks.sweep_unscored_buyers",
        "schedule": timedelta(seconds=env_int("SWEEP_INTERVAL_SECONDS", 30, minimum=1)),
    },
    "expire-flags": {"task": "scoring.tasks.expire_flags", "schedule": timedelta(hours=1)},
    "recompute-seller-trust": {"task": "scoring.tasks.recompute_seller_trust", "schedule": timedelta(hours=6)},
    "rescore-aging": {
        "task": "scoring.tasks.rescore_aging",
        "schedule": timedelta(hours=env_int("RESCORE_INTERVAL_HOURS", 24, minimum=1)),
    },
}

# --- Scaling: Celery queues (docs/scaling.md) ----------------------------------------------------
# Three queues, so each kind of work can get its own workers: `scoring` (the score task and the
# sweep: what keeps decisions fresh), `mail` (notices and buyers' one-time codes: slow SMTP must
# not delay a score, nor a rescore a code) and `maintenance` (expiry, seller trust, aging,
# retention: long batch jobs). A worker started without -Q consumes all three (they are
# CELERY_TASK_QUEUES); `-Q scoring` and so on split them. Every task is routed here by name;
# tests/unit/test_queues.py checks that none is left out.
# First, though, riskhub.queues keeps the score tasks a maintenance job sends (a full rescore's
# batches) on `maintenance`, so they never queue ahead of the scores fresh flags asked for.
# Each queue has its own direct exchange and routing key: a bare Queue("scoring") would be bound
# to the default exchange with the default routing key, and every queue would get every message.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("scoring", "mail", "maintenance")]
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = (
    "riskhub.queues.score_work_of_maintenance_jobs",
    {
        "scoring.tasks.score_buyers": {"queue": "scoring"},
        "scoring.tasks.sweep_unscored_buyers": {"queue": "scoring"},
        "disputes.tasks.send_pending_dispute_notices": {"queue": "mail"},
        "disputes.tasks.send_appeal_code": {"queue": "mail"},
        "scoring.tasks.expire_flags": {"queue": "maintenance"},
        "scoring.tasks.recompute_seller_trust": {"queue": "maintenance"},
        "scoring.tasks.rescore_aging": {"queue": "maintenance"},
        "disputes.tasks.purge_expired_data": {"queue": "maintenance"},
    },
)
# --- end of the queue block ---------------------------------------------------------------------

# How long a buyer may stay marked "needs a score" before the sweep re-queues it.
SCORE_SWEEP_AFTER = timedelta(seconds=env_int("SCORE_SWEEP_AFTER_SECONDS", 60, minimum=0))

# Identity as evidence (identity.graph): other sellers' flags travel across a link between two
# identifiers only when this many distinct sellers assert it; an identifier linked to more than
# LINK_HUB_LIMIT identifiers of one kind (a parcel locker, a relay email) links nothing.
LINK_MIN_SELLERS = env_int("LINK_MIN_SELLERS", 2, minimum=2)
LINK_HUB_LIMIT = env_int("LINK_HUB_LIMIT", 5, minimum=1)

# How long a process trusts an API key row it read (blacklist.keycache): a revoked key or a
# deactivated seller is refused everywhere within this time. 0 turns the cache off.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_MS", 1000, minimum=0) / 1000

# --- API ------------------------------------------------------------------------------------
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FLAG_BATCH_MAX = 500

RATE_LIMITS = {
    "default": env_rate("RATE_LIMIT_DEFAULT", "600/min"),
    "flags": env_rate("RATE_LIMIT_FLAGS", "1200/min"),
    "decisions": env_rate("RATE_LIMIT_DECISIONS", "6000/min"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["blacklist.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["blacklist.auth.IsSellerKey"],
    "DEFAULT_THROTTLE_CLASSES": ["riskhub.ratelimit.KeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["riskhub.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "riskhub.schema.ApiSchema",
    "EXCEPTION_HANDLER": "riskhub.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "riskhub API",
    "DESCRIPTION": (
        "Shared buyer-risk blacklist: sellers flag bad buyers, riskhub pools the flags into "
        "per-buyer scores and answers ship / review / no_ship before a parcel leaves. "
        "Authenticate with `Authorization: Bearer <api key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "FlagStatusEnum": "blacklist.models.FlagStatus",
        "DisputeStatusEnum": "disputes.models.DisputeStatus",
        "ReasonKindEnum": "blacklist.models.ReasonKind",
        "DisputeOutcomeEnum": ["upheld", "overturned"],
        "LinkContestOutcomeEnum": ["severed", "rejected"],
    },
}

# --- Due process (disputes) -----------------------------------------------------------------
# One-time appeal codes: how long they live and how many wrong guesses one client may make on
# one code (other clients' guesses never burn the code the buyer holds), and the ceiling of
# guesses from everyone together, which keeps brute force hopeless when clients rotate.
APPEAL_CODE_TTL = timedelta(minutes=env_int("APPEAL_CODE_TTL_MINUTES", 15, minimum=1))
APPEAL_CODE_MAX_ATTEMPTS = env_int("APPEAL_CODE_MAX_ATTEMPTS", 5, minimum=1)
APPEAL_CODE_MAX_TOTAL_ATTEMPTS = env_int("APPEAL_CODE_MAX_TOTAL_ATTEMPTS", 200, minimum=1)
# Codes of one address that stay valid together: asking again does not void the code in hand.
APPEAL_CODES_LIVE = env_int("APPEAL_CODES_LIVE", 3, minimum=1)
# The buyer token a correct code buys.
APPEAL_TOKEN_TTL = timedelta(minutes=env_int("APPEAL_TOKEN_TTL_MINUTES", 30, minimum=1))
APPEAL_RATE_LIMITS = {
    "start_email": env_rate("RATE_LIMIT_APPEAL_START_EMAIL", "3/hour"),
    "start_ip": env_rate("RATE_LIMIT_APPEAL_START_IP", "20/hour"),
    "session_ip": env_rate("RATE_LIMIT_APPEAL_SESSION_IP", "30/hour"),
}
APPEAL_COOLDOWN_DAYS = env_int("APPEAL_COOLDOWN_DAYS", 180, minimum=0)
DISPUTE_CLAIM_TTL = timedelta(minutes=env_int("DISPUTE_CLAIM_TTL_MINUTES", 60, minimum=1))
# Retracted, overturned and expired flags (with their disputes) are purged this long after their last change.
RETENTION_DAYS = env_int("RETENTION_DAYS", 365, minimum=1)
# Secrets the buyer's contact address and buyer tokens are sealed under (comma-separated, newest first,
# for rotation); SECRET_KEY when unset.
CONTACT_ENCRYPTION_KEYS = env_list("CONTACT_ENCRYPTION_KEYS", [])

# --- The rest -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve without collectstatic too (dev, tests)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "riskhub <noreply@riskhub.invalid>")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Web pages: the seller console and the buyer's page (console app; issue 9) ---------------
# Kept in one block. Cookie `Secure` flags, HSTS, proxies and CSRF origins live in the HTTPS block.
from csp.constants import NONE, SELF  # noqa: E402

# console first: its templates (admin branding, registration pages) win over the admin's own.
INSTALLED_APPS = ["console", *INSTALLED_APPS, "axes", "csp"]
# AxesMiddleware last, as django-axes requires; CSP on every page.
PAGE_MIDDLEWARE = [
    *PAGE_MIDDLEWARE,
    "csp.middleware.CSPMiddleware",
    "console.middleware.AdminInlineStyles",
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "console:sign-in"
LOGIN_REDIRECT_URL = "console:check"
LOGOUT_REDIRECT_URL = "landing"
LANGUAGES = [("en", "English")]  # every page string is translatable; English is shipped

# Sessions: short-lived, never readable by scripts, not sent on cross-site POSTs.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 24 * 3600, minimum=300)

# Sign-in throttling (django-axes): after SIGN_IN_FAILURE_LIMIT failures from one client address,
# or against one username, sign-in answers 429 for SIGN_IN_COOLOFF_MINUTES. Counted in the
# database, so every gunicorn worker sees the same count; the admin's sign-in is covered too.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "riskhub.clientip.client_ip"  # the client address the API's limits use
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): our own scripts and styles only, no inline code, no
# framing. The API docs page (riskhub/urls.py) and the admin (console.middleware) allow inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# What the buyer's page promises about review time (an operator's commitment, shown to buyers).
APPEAL_REVIEW_TARGET_DAYS = env_int("APPEAL_REVIEW_TARGET_DAYS", 14, minimum=1)
