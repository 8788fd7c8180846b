"""Costline settings. Everything comes from the environment (django-environ).

With no environment at all, Costline runs on the embedded default: a SQLite file in the project
and Celery in eager mode. Production sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` /
``CELERY_BROKER_URL``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# DEBUG is on by default so that the embedded default (no environment) runs as a development
# server; production turns it off (the Docker image sets DEBUG=false), and then Costline refuses
# to start without a real SECRET_KEY and turns on HTTPS-only settings (see the end of this file).
DEBUG = env.bool("DEBUG", default=True)
DEVELOPMENT_SECRET_KEY = "costline-insecure-development-key-change-me"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    SECRET_KEY == DEVELOPMENT_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure-")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is missing, the development default or too weak: set "
        "SECRET_KEY to at least 50 random characters (e.g. `openssl rand -hex 32`)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Identifies this deployment in generated ids such as filter segments' ``seg_<environment>_...``.
COSTLINE_ENVIRONMENT = env("COSTLINE_ENVIRONMENT", default="dev")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "simple_history",
    "core",
    "organizations",
    "costs",
    "costs.columnar",
    "segments",
    "filter_segments",
    "metrics",
    "console",
    "reports",
    "business",
    "virtual_tags",
    "alerts",
    "budgets",
]

MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "core.middleware.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Who made a change, for the audit histories (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "organizations.middleware.CurrentOrganizationMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "organizations.context_processors.current_organization",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the dev server's threads and an eager task share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Parallel test processes (pytest-xdist) share one Redis: their rate-limit counters
            # and progress keys must not mix. Empty outside tests.
            "KEY_PREFIX": env("PYTEST_XDIST_WORKER", default=""),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# django-axes first: it refuses sign-ins of a username from an address after
# AXES_FAILURE_LIMIT wrong passwords. The lockout is per (username, address) pair, so one person's
# lockout never locks out others (nor the same person elsewhere); it lifts after the cool-off.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_address"
AXES_VERBOSE = False
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the source folders when collectstatic has not run (dev, tests).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# Limits on what one request may carry (uploads stream to disk and have their own ceiling).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_IMPORT_UPLOAD_BYTES = env.int("MAX_IMPORT_UPLOAD_BYTES", default=2 * 1024 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.authentication.ApiTokenAuthentication",
        "organizations.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["organizations.permissions.OrganizationAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.CredentialRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "credential": env("API_RATE_LIMIT", default="1200/min"),
        # Per client address: unknown, revoked or expired tokens and calls without credentials.
        "failed_auth": env("API_FAILED_AUTH_RATE_LIMIT", default="30/min"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Costline API",
    "DESCRIPTION": (
        "Cloud-cost segmentation and usage metering. Four surfaces: Archera segments "
        "(`/beta/v1/org/{org_id}/segments`), Vantage v2 (`/v2/...`), filter segments "
        "(`/api/{account_id}/filter-segments/`) and billable metrics (`/api/v1/...`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.schema.drop_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.query_parameters",
        "core.schema.error_headers",
    ],
    "SCHEMA_PATH_PREFIX": r"/(api/v1|api|v2|beta/v1)",
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a message that was taken but never acknowledged (tasks are ``acks_late``, so a
# worker SIGKILLed mid-task leaves its message unacknowledged) once ``visibility_timeout`` has
# passed; Kombu's default is one hour. Five minutes bounds how long a dead worker strands work,
# and stays well above our countdowns (seconds), so delayed tasks are not delivered twice. A task
# still running after five minutes (a large import) is delivered a second time; the services make
# that harmless (a job with a fresh heartbeat is left to its worker, a refresh of a tree already
# refreshed exits). Unacknowledged messages are scanned every interval x throttle = 30 s.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=3),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# Work whose worker is gone: an import job whose heartbeat (written at each progress report) is
# older than this is queued again (or failed after IMPORT_JOB_MAX_ATTEMPTS runs), a segment tree
# whose refresh request has waited this long with no refresh running is enqueued again. The
# sweep runs every WORK_RECOVERY_INTERVAL_SECONDS (beat task ``core.recover_stuck_work``).
WORK_STALE_SECONDS = env.int("WORK_STALE_SECONDS", default=300)
WORK_RECOVERY_INTERVAL_SECONDS = env.float("WORK_RECOVERY_INTERVAL_SECONDS", default=60.0)
IMPORT_JOB_MAX_ATTEMPTS = env.int("IMPORT_JOB_MAX_ATTEMPTS", default=3)
# Edits of one tree within this many seconds coalesce into one refresh (worker mode only; in
# eager mode the refresh runs in-process when the edit commits).
SEGMENTS_REFRESH_DEBOUNCE_SECONDS = env.float("SEGMENTS_REFRESH_DEBOUNCE_SECONDS", default=2.0)
# Test-only: slow an import's progress reports / a refresh down so a test can kill the worker
# mid-way deterministically. Always 0 outside the convergence tests.
COSTS_IMPORT_PROGRESS_DELAY_SECONDS = env.float("COSTS_IMPORT_PROGRESS_DELAY_SECONDS", default=0)
SEGMENTS_REFRESH_DELAY_SECONDS = env.float("SEGMENTS_REFRESH_DELAY_SECONDS", default=0)
CELERY_BEAT_SCHEDULE: dict = {}
# Billable metrics: drain usage days left dirty (events ingested while no task ran).
CELERY_BEAT_SCHEDULE["metrics-materialize-usage"] = {
    "task": "metrics.materialize_usage",
    "schedule": 60.0,
}
# Import jobs and segment refreshes whose worker died: queue them again (or fail them visibly).
CELERY_BEAT_SCHEDULE["core-recover-stuck-work"] = {
    "task": "core.recover_stuck_work",
    "schedule": WORK_RECOVERY_INTERVAL_SECONDS,
}
# Connectors: whether a source may name its own endpoint_url (S3-compatible stores, emulators).
# Turn off where tenants must not make the workers call arbitrary hosts.
COSTS_SOURCE_CUSTOM_ENDPOINTS = env.bool("COSTS_SOURCE_CUSTOM_ENDPOINTS", default=True)
# Connectors: sync each integration's source when due (every ``sync_every_minutes``, default 60).
CELERY_BEAT_SCHEDULE["costs-sync-due-sources"] = {
    "task": "costs.sync_due_sources",
    "schedule": 60.0,
}
# Columnar store: where the Parquet files of cost rows live (default var/columnar in the project;
# every web and worker process must see the same directory).
COSTLINE_COLUMNAR_ROOT = env("COSTLINE_COLUMNAR_ROOT", default=None)
# Columnar store: replaced files stay readable this long (running queries finish), then the
# sweep removes them with files no import finished writing (docs/columnar.md).
COSTLINE_COLUMNAR_GRACE_SECONDS = env.int("COSTLINE_COLUMNAR_GRACE_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["columnar-sweep-store"] = {
    "task": "columnar.sweep_store",
    "schedule": 600.0,
}
# Segments: recompute every segment tree nightly (imports and edits refresh as they happen).
CELERY_BEAT_SCHEDULE["segments-refresh-nightly"] = {
    "task": "segments.refresh_all_segments",
    "schedule": crontab(hour=2, minute=30),
}
# Virtual tags: apply again, nightly, the tags whose shares come from data (business metrics).
CELERY_BEAT_SCHEDULE["virtual-tags-apply-all"] = {
    "task": "virtual_tags.apply_all",
    "schedule": crontab(hour=2, minute=0),
}
METRICS_MATERIALIZE_DEBOUNCE_SECONDS = env.int("METRICS_MATERIALIZE_DEBOUNCE_SECONDS", default=5)
# Alerts (docs/alerts.md): anomaly detection and alert checks daily after the nightly refreshes
# (imports also schedule them), retries of deliveries whose message was lost, the weekly digest.
CELERY_BEAT_SCHEDULE["alerts-run-all-checks"] = {
    "task": "alerts.run_all_checks",
    "schedule": crontab(hour=4, minute=0),
}
CELERY_BEAT_SCHEDULE["alerts-retry-due-deliveries"] = {
    "task": "alerts.retry_due_deliveries",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["alerts-weekly-digest"] = {
    "task": "alerts.send_weekly_digests",
    "schedule": crontab(day_of_week="mon", hour=7, minute=0),
}
# Budgets (docs/budgets.md): forecasts again each night (they move with the calendar; imports
# also refresh them), budget alerts evaluated hourly (a new day can cross a threshold).
CELERY_BEAT_SCHEDULE["budgets-refresh-all-forecasts"] = {
    "task": "budgets.refresh_all_forecasts",
    "schedule": crontab(hour=3, minute=30),
}
CELERY_BEAT_SCHEDULE["budgets-evaluate-all-budget-alerts"] = {
    "task": "budgets.evaluate_all_budget_alerts",
    "schedule": crontab(minute=15),
}
ALERTS_BASE_URL = env("ALERTS_BASE_URL", default="http://localhost:8000")
ALERTS_ANOMALY_Z = env.float("ALERTS_ANOMALY_Z", default=4.0)
ALERTS_ANOMALY_MIN_IMPACT = env.float("ALERTS_ANOMALY_MIN_IMPACT", default=25.0)
ALERTS_DELIVERY_MAX_ATTEMPTS = env.int("ALERTS_DELIVERY_MAX_ATTEMPTS", default=5)
ALERTS_RETRY_BASE_SECONDS = env.int("ALERTS_RETRY_BASE_SECONDS", default=30)
ALERTS_WEBHOOK_TIMEOUT_SECONDS = env.int("ALERTS_WEBHOOK_TIMEOUT_SECONDS", default=5)
ALERTS_TOP_SERIES = env.int("ALERTS_TOP_SERIES", default=10)
ALERTS_DETECT_LOOKBACK_DAYS = env.int("ALERTS_DETECT_LOOKBACK_DAYS", default=3)
ALERTS_NOTIFY_MAX_AGE_DAYS = env.int("ALERTS_NOTIFY_MAX_AGE_DAYS", default=3)
ALERTS_CHECK_DELAY_SECONDS = env.int("ALERTS_CHECK_DELAY_SECONDS", default=120)
# Email (Django's mail framework): SMTP when EMAIL_HOST is set, else the console.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Costline <alerts@costline.localhost>")

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "costline": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# HTTPS (docs/operations.md): with DEBUG off, Costline expects to be served over TLS, usually
# terminated by a proxy that sets X-Forwarded-Proto; each switch can be turned off by environment.
if env.bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front of Costline whose X-Forwarded-For is trusted for the client address (rate
# limits, login lockout); 0 uses REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe /health/ over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)

# Content-Security-Policy (django-csp): scripts only from Costline itself or inline with the
# request's nonce (``nonce="{{ request.csp_nonce }}"``); inline style attributes are allowed
# (templates and the ReDoc/Swagger bundles use them); no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Business (docs/business.md): the statements of every schedule for the month just ended,
# generated and e-mailed on the 2nd (after the nightly refreshes took in the month's last day).
CELERY_BEAT_SCHEDULE["business-monthly-statements"] = {
    "task": "business.send_monthly_statements",
    "schedule": crontab(day_of_month=2, hour=6, minute=0),
}
