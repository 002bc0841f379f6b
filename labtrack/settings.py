"""LabTrack settings, read from the environment (see .env.example for every variable).

With no DATABASE_URL / REDIS_URL the embedded servers under the data folder are used (see
labtrack/embedded.py). PostgreSQL only: there is no SQLite path.
"""

import logging
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from labtrack import embedded, logs
from labtrack.env import (
    celery_broker_url,
    env_bool,
    env_choice,
    env_database_owner,
    env_int,
    env_list,
    env_postgres,
    env_redis_url,
    env_secret_key,
    env_str,
    env_timezone,
    redis_cache_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = embedded.data_dir()

DEBUG = env_bool("DEBUG", False)
# No default outside DEBUG: a deployment without its own long random key (a placeholder such as
# .env.example's "change-me", a short or repetitive key) must not start (labtrack/env.py).
SECRET_KEY = env_secret_key("SECRET_KEY", debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for the project-wide form renderer below
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs' own scripts and styles, served locally (no CDN)
    "django_htmx",
    "template_partials",
    "axes",
    "pgtrigger",
    "pghistory",
    "django_structlog",
    "labtrack",
    "workflows",
    "samples",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL character in the address, query string, headers or form fields gets a 400 before
    # any of it reaches PostgreSQL, which cannot store it (labtrack/nul_bytes.py).
    "labtrack.nul_bytes.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every answer, Cache-Control: no-store on every answer to a
    # signed-in person or API client (labtrack/security_headers.py). After WhiteNoise: static
    # files keep their caching.
    "labtrack.security_headers.SecurityHeadersMiddleware",
    # Django's session middleware, except that background polls do not extend the session.
    "labtrack.sessions.PollAwareSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Binds the request id and user id to every log line of the request, logs its outcome and
    # echoes X-Request-ID (labtrack/log_context.py). After authentication: it knows the user.
    "django_structlog.middlewares.RequestMiddleware",
    # Who changed what, from which page or endpoint: the context of the audit trail's events.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: an htmx request whose session has ended is sent to sign in as a page.
    "labtrack.idle.SignInRedirectMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the outcome of authentication attempts made by the views above it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labtrack.urls"
# Forms render with the project's templates (templates/samples/_form_fields.html and friends).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "labtrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "samples.views.navigation.navigation",
                "labtrack.idle.idle_logout",
            ],
        },
    },
]

_database = env_postgres("DATABASE_URL", embedded.database_url(DATA_DIR))
DATABASES = {
    "default": {
        **_database.as_django(),
        "OPTIONS": {"connect_timeout": "5", **_database.options},
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
    }
}
# The role that owns the tables and runs the migrations (labtrack.owner): the application's
# role above owns nothing. None (a single-role install) when DATABASE_OWNER_URL is unset.
DATABASE_APP_ROLE = _database.user
DATABASE_OWNER = env_database_owner(
    "DATABASE_OWNER_URL",
    _database,
    default=embedded.owner_database_url(DATA_DIR) if not env_str("DATABASE_URL", "") else "",
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL", embedded.redis_url(DATA_DIR))

# Accounts, sessions and login protection (COMPLIANCE.md C13, C14).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

IDLE_LOGOUT_MINUTES = env_int("IDLE_LOGOUT_MINUTES", 15, minimum=1)
# The limit that the sessions, the pages' idle script and the sign-in page read (in seconds, so
# tests can set a limit shorter than a minute).
IDLE_LOGOUT_SECONDS = IDLE_LOGOUT_MINUTES * 60
# Sliding expiry: each request the user makes pushes the end of the session IDLE_LOGOUT_SECONDS
# ahead; background polls do not (labtrack/sessions.py, which reads the age from
# IDLE_LOGOUT_SECONDS).
SESSION_ENGINE = "labtrack.sessions"
SESSION_COOKIE_AGE = IDLE_LOGOUT_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front that each append to X-Forwarded-For: the client's address (for the lockout and
# the logs) is the one the outermost of them saw (labtrack/client_address.py). 0: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0, minimum=0)

# How long a bench action's answer waits for the sample's lifecycle (on a worker) to record the
# change, so the card answers with the new state and the next action (samples/views/bench.py).
BENCH_ACTION_WAIT_SECONDS = env_int("BENCH_ACTION_WAIT_SECONDS", 3, minimum=0)

# How far ahead of the server's clock a given time (a collection, a measurement) may be: the
# clocks of wards, instruments and the server differ by a little (samples/values/bounds.py).
CLOCK_SKEW_MINUTES = env_int("CLOCK_SKEW_MINUTES", 5, minimum=0)

# Lockout (C14, docs/accounts.md): LOGIN_FAILURE_LIMIT wrong passwords lock the account at that
# address, so nobody can lock a reviewer out everywhere by typing their name elsewhere; and
# LOGIN_ACCOUNT_FAILURE_LIMIT wrong passwords from all addresses together close the account to
# every address but those its owner signed in from lately (labtrack/lockout.py).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "labtrack.lockout.AccountGuardHandler"
AXES_CLIENT_IP_CALLABLE = "labtrack.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
# Signs a person still signed in out, and answers htmx with a redirect (labtrack/lockout.py).
AXES_LOCKOUT_CALLABLE = "labtrack.lockout.lockout_response"
AXES_VERBOSE = False
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20, minimum=1)
if LOGIN_ACCOUNT_FAILURE_LIMIT <= AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        "LOGIN_ACCOUNT_FAILURE_LIMIT must be above LOGIN_FAILURE_LIMIT "
        f"({AXES_FAILURE_LIMIT}): it counts the wrong passwords of every address together."
    )
# Where an account signed in successfully within these days is its usual place.
LOGIN_USUAL_PLACE_DAYS = 90

LANGUAGE_CODE = "en"
# Pages print every time in UTC and say so (samples/templatetags/lab_format.py); TIME_ZONE is the
# lab's clock for times given without a zone (the registration form, CSV imports, HL7) and for
# the dashboard's days.
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# After collectstatic (the Docker image) files are served with hashed names; otherwise (make run,
# tests) WhiteNoise serves them straight from static/.
STATIC_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "samples.api.auth.ClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only, and every error a JSON body (samples/api/errors.py); the schema lists
    # each operation's errors (samples/api/schema.py).
    "DEFAULT_PARSER_CLASSES": ["samples.api.errors.SizedJSONParser"],
    "EXCEPTION_HANDLER": "samples.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "samples.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["samples.api.permissions.PerClientThrottle"],
}
# Each API client (token) gets this many requests; past it, 429 with Retry-After.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "60000/min")

# Shared by every process (API throttling counts per client across web workers). Same Redis as
# the broker, the next database: cache keys never share a database with queued work.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_cache_url("REDIS_URL", REDIS_URL),
        "KEY_PREFIX": "labtrack",
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LabTrack API",
    "DESCRIPTION": (
        "Instruments post results; integrators register samples and read their state. "
        "Authenticate with `Authorization: Token <token>` (one token per client, from "
        "`manage.py api_tokens`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the schema holds no data
    # Request bodies get components of their own, which say what a request must hold (a
    # field that may not be blank has minLength 1).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: JSON only, nothing pickled; the database holds results, the broker only rings.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", celery_broker_url(REDIS_URL))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600, minimum=60),
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Beat's schedules are in UTC, whatever TIME_ZONE is (the nightly check runs at hh:30 UTC).
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery's Django fixup would close the database connection around every task, so each task
# would pay for a new PostgreSQL connection. A worker keeps it instead and treats each task like
# a request: DATABASE_CONN_MAX_AGE and errors decide (see labtrack.celery).
CELERY_DB_REUSE_MAX = 2**31
# The sweep re-dispatches what lost messages left behind: due timers, expired leases, steps.
WORKFLOWS_SWEEP_SECONDS = env_int("WORKFLOWS_SWEEP_SECONDS", 5, minimum=1)
# Advances of a run lost in a row with their worker process (its workflow code killed it)
# before the run is parked as blocked for a person; the broker would redeliver it forever.
WORKFLOWS_MAX_LOST_ADVANCES = env_int("WORKFLOWS_MAX_LOST_ADVANCES", 3, minimum=1)
# Audit events carry the time of the change itself, not of the start of its transaction.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"
AUDIT_CHECK_HOUR = env_int("AUDIT_CHECK_HOUR", 2, minimum=0)
if AUDIT_CHECK_HOUR > 23:
    raise ImproperlyConfigured("AUDIT_CHECK_HOUR must be an hour of the day, 0 to 23.")
# The audit trail's chain heads, anchored outside the database (docs/audit.md, "Anchors"):
# signed files written every AUDIT_ANCHOR_MINUTES to AUDIT_ANCHOR_DIR (keep it on another
# machine or a write-once store in production), with the Ed25519 private key read from
# AUDIT_ANCHOR_KEY_FILE. Without that variable the key is made on first use under the data
# folder (the embedded default); a key file named by it must exist.
AUDIT_ANCHOR_MINUTES = env_int("AUDIT_ANCHOR_MINUTES", 60, minimum=1)
AUDIT_ANCHOR_DIR = Path(env_str("AUDIT_ANCHOR_DIR", str(DATA_DIR / "audit-anchors")))
_anchor_key_file = env_str("AUDIT_ANCHOR_KEY_FILE", "")
AUDIT_ANCHOR_KEY_FILE = Path(_anchor_key_file or DATA_DIR / "audit-anchor-key.pem")
AUDIT_ANCHOR_KEY_CREATE = not _anchor_key_file
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "workflows-sweep": {"task": "workflows.sweep", "schedule": float(WORKFLOWS_SWEEP_SECONDS)},
    # Every night (UTC): the audit trail's hash chains, checked and the outcome kept.
    "audit-check-nightly": {
        "task": "samples.audit_check_nightly",
        "schedule": crontab(hour=AUDIT_CHECK_HOUR, minute=30),
    },
    # Every AUDIT_ANCHOR_MINUTES: the head of every chain, signed, to AUDIT_ANCHOR_DIR.
    "audit-anchor": {
        "task": "samples.audit_anchor",
        "schedule": AUDIT_ANCHOR_MINUTES * 60.0,
    },
}
# Modules holding @workflow and @step definitions, imported by every process at start-up.
WORKFLOWS_MODULES: list[str] = []
# Background jobs (imports, chain checks, PDF exports): an attempt at one of their parts longer
# than this fails and is tried again; a worker lost mid-part is noticed this much later.
JOB_STEP_TIMEOUT_SECONDS = env_int("JOB_STEP_TIMEOUT_SECONDS", 120, minimum=5)
# Results out (samples.services.outbox): how long a destination has to connect and to answer
# with its ACK, how many attempts a message gets and the wait before the second (doubling each
# time, at most an hour) before it is parked for a person.
OUTBOX_ACK_TIMEOUT_SECONDS = env_int("OUTBOX_ACK_TIMEOUT_SECONDS", 30, minimum=1)
OUTBOX_ATTEMPTS = env_int("OUTBOX_ATTEMPTS", 5, minimum=1)
OUTBOX_RETRY_SECONDS = env_int("OUTBOX_RETRY_SECONDS", 60, minimum=1)
# Critical values (samples.lifecycle.critical): a call closing the notification is due within
# this many minutes of the result; past it the supervisors (reviewers) are told, and again
# after each further period while it stays open.
CRITICAL_CALL_SLA_MINUTES = env_int("CRITICAL_CALL_SLA_MINUTES", 30, minimum=1)
# A run rejected by QC holds its results until a supervisor decides; meanwhile the supervisors
# are reminded by email this often (samples.services.qc_decisions).
QC_DECISION_REMINDER_MINUTES = env_int("QC_DECISION_REMINDER_MINUTES", 60, minimum=1)
# A run's patient results are in but a control result is still missing (batch_run version 3):
# the supervisors are emailed this many minutes after, and again after each further period.
QC_CONTROL_REMINDER_MINUTES = env_int("QC_CONTROL_REMINDER_MINUTES", 60, minimum=1)
# Mail (the QC reminders): Django's SMTP backend, to this server, from this address.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "labtrack@localhost")
# The laboratory a report names as the one that tested the specimen (CLIA 42 CFR 493.1291(c)):
# its name, and its address (one line; "\n" in the value starts a new line on the report).
LAB_NAME = env_str("LAB_NAME", "LabTrack clinical laboratory")
LAB_ADDRESS = env_str("LAB_ADDRESS", "Address not configured (set LAB_ADDRESS)")

HEALTH_CHECK_TIMEOUT_SECONDS = env_int("HEALTH_CHECK_TIMEOUT_SECONDS", 3, minimum=1)
# The deep health check (/healthz/deep): beat writes a heartbeat at least every 10 seconds
# (labtrack.beat), the sweep records when it last ran (workflows.heartbeat).
CELERY_BEAT_SCHEDULER = "labtrack.beat:HeartbeatScheduler"
HEALTH_BEAT_MAX_AGE_SECONDS = env_int("HEALTH_BEAT_MAX_AGE_SECONDS", 60, minimum=20)
HEALTH_SWEEP_MAX_LAG_SECONDS = env_int(
    "HEALTH_SWEEP_MAX_LAG_SECONDS", max(60, 3 * WORKFLOWS_SWEEP_SECONDS), minimum=1
)
if HEALTH_SWEEP_MAX_LAG_SECONDS <= WORKFLOWS_SWEEP_SECONDS:
    raise ImproperlyConfigured(
        "HEALTH_SWEEP_MAX_LAG_SECONDS must be longer than WORKFLOWS_SWEEP_SECONDS "
        f"({WORKFLOWS_SWEEP_SECONDS}), or every healthy pause between two sweeps would fail."
    )

# Logs: one line per event on stderr, JSON in production, readable text in development
# (labtrack/logs.py); each carries its request's or task's id (labtrack/log_context.py).
LOG_LEVEL = env_choice("LOG_LEVEL", logs.LOG_LEVELS, "INFO")
LOG_FORMAT = env_choice("LOG_FORMAT", logs.LOG_FORMATS, "console" if DEBUG else "json")
LOGGING = logs.logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)
logs.configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # the address axes uses is bound instead
# One line per request (request_finished, with its status) and none per routine task: their
# start, and a task's success, show at LOG_LEVEL=DEBUG; failures are logged as errors.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_CELERY_TASK_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_CELERY_TASK_SUCCESS_LOG_LEVEL = logging.DEBUG

# GET /metrics (Prometheus text) answers only a scraper sending "Authorization: Bearer <token>"
# with this token; unset, the endpoint does not exist (404).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters long.")
