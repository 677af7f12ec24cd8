"""Settings for the store, read from environment variables (see README, "Configuration").

With nothing set it runs for development: SQLite, an embedded Celery broker on disk,
a file cache and mail written to var/mail. Production sets DEBUG=false, SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and EMAIL_URL.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_mailer,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEVELOPMENT_SECRET_KEY = "dev-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DEBUG is off, so SECRET_KEY must be set to a random value of at least 50 characters "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute base of links in emails and printed by commands (no request to build them from).
# The address `make run` prints: links in emails open the same site (and session) as it.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
STORE_NAME = env_str("STORE_NAME", "Northwind Supply")

INSTALLED_APPS = [
    # Before django.contrib.auth so that its createsuperuser command is replaced (staff are
    # created with a role: createstaff).
    "customers",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    # Full-text search and trigram lookups on PostgreSQL; inert on SQLite.
    "django.contrib.postgres",
    "django_htmx",
    # Project apps, lowest layer first (see DESIGN.md); seed_demo seeds them in this order
    # (customers, listed above, comes first: nothing it seeds needs another app).
    "config",
    "catalog",
    "inventory",
    "orders",
    "fulfillment",
    "marketing",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.StyledMethodNotAllowedMiddleware",
    # Storefront visits (after the user is known: staff are not counted).
    "analytics.middleware.VisitMiddleware",
]

ROOT_URLCONF = "config.urls"
FORM_RENDERER = "config.forms.StoreFormRenderer"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.store",
            ],
        },
    }
]

# --- Database ------------------------------------------------------------------------------

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker --------------------------------------------------------

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "store",
        }
    }
else:
    # A file cache, not local memory: the web server, worker and beat of `make run` are
    # three processes, and login throttling and the worker heartbeat must be seen by all.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

# --- Celery (config/celery.py reads every CELERY_* setting) --------------------------------

BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: messages are files under var/broker, so a real worker
    # and beat run on a machine with no broker installed. One machine only.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: with a few hundred tasks queued
        # (seed_demo), emails of a fresh `make run` took minutes to arrive.
        "polling_interval": 0.1,
    }
# Tasks write their effects to the database; nothing reads task results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = env_str("STORE_TIME_ZONE", "UTC")
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Lets /healthz tell whether beat and a worker are alive (the key ages out otherwise).
    "worker-heartbeat": {
        "task": "config.tasks.worker_heartbeat",
        "schedule": float(WORKER_HEARTBEAT_SECONDS),
    },
    # New product titles join the vocabulary that corrects typos in searches.
    "search-words-refresh": {
        "task": "catalog.tasks.search_words_refresh_task",
        "schedule": 10 * 60.0,
    },
    "release-reservations": {
        "task": "inventory.tasks.reservations_release_task",
        "schedule": 60.0,
    },
    "stock-alerts": {
        "task": "inventory.tasks.stock_alerts_task",
        "schedule": 15 * 60.0,
    },
    "clear-expired-sessions": {
        "task": "config.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    # Payment webhook events whose task was lost (broker down) are applied anyway.
    "webhook-events-sweep": {
        "task": "orders.tasks.webhook_events_sweep_task",
        "schedule": 5 * 60.0,
    },
    "cart-abandonment": {
        "task": "marketing.tasks.abandonment_send_due_task",
        "schedule": 15 * 60.0,
    },
    # Shopper emails for parcels past their promised date and still not delivered.
    "fulfillment-delay-notices": {
        "task": "fulfillment.tasks.shipment_delays_notify_task",
        "schedule": crontab(minute=20),
    },
    # Yesterday (and any day never rolled up) into the daily KPI tables; store time.
    "kpi-rollup": {
        "task": "analytics.tasks.kpis_rollup_task",
        "schedule": crontab(hour=2, minute=0),
    },
}
# An abandonment email claimed but not marked sent after this long is sent again (its
# sender crashed between claiming and sending).
ABANDONMENT_CLAIM_STALE_SECONDS = env_int("ABANDONMENT_CLAIM_STALE_SECONDS", 300, minimum=1)
# Test hook only: seconds a sender sleeps between claiming and sending, so a test can kill
# the worker right there. Always 0 in a real deployment.
ABANDONMENT_PAUSE_AFTER_CLAIM = env_int("ABANDONMENT_PAUSE_AFTER_CLAIM", 0, minimum=0)

# --- Accounts and staff access -------------------------------------------------------------

AUTH_USER_MODEL = "customers.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "customers.validators.StaffAwareMinimumLengthValidator",
        "OPTIONS": {"min_length": 8, "staff_min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "customers:staff-login"
LOGIN_REDIRECT_URL = "analytics:staff-home"
# Failed logins per account and address before sign-in is refused for the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=60)
# Proxies in front of the app that append to X-Forwarded-For (a load balancer: 1). Decides
# which address login throttling counts; 0 trusts REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Roles that must turn on two-factor authentication before using the dashboard.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", default=not DEBUG)
STAFF_2FA_REQUIRED_ROLES = env_list("STAFF_2FA_REQUIRED_ROLES", ["Owner", "Manager"])
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
# A staff sign-in lasts this long (shoppers keep SESSION_COOKIE_AGE).
STAFF_SESSION_SECONDS = env_int("STAFF_SESSION_SECONDS", 12 * 60 * 60, minimum=300)

SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Mail ----------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{STORE_NAME} <shop@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
MAILERS = {"default": env_mailer(debug=DEBUG, file_path=VAR_DIR / "mail")}

# --- Payments (only manual methods when unset) ---------------------------------------------

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Where the Stripe client sends API calls; tests point it at a local fake of Stripe.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
# Seconds before a Stripe call gives up; the library then retries with the same
# idempotency key, so a slow answer never creates a second PaymentIntent or refund.
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20, minimum=1)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0)

# --- Internationalisation ------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("STORE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STORE_CURRENCY = env_str("STORE_CURRENCY", "EUR")
# How long items put in a cart stay held for it.
CART_RESERVATION_MINUTES = env_int("CART_RESERVATION_MINUTES", 15, minimum=1)
# Catalog prices include tax (European style) or exclude it (added at checkout).
PRICES_INCLUDE_TAX = env_bool("PRICES_INCLUDE_TAX", default=True)
# Orders whose fraud risk score (0-100) reaches this are put on hold for a person to check.
RISK_HOLD_THRESHOLD = env_int("RISK_HOLD_THRESHOLD", 60, minimum=1)
# Manual payment methods offered at checkout (bank_transfer, cash_on_delivery).
MANUAL_PAYMENT_METHODS = env_list("MANUAL_PAYMENT_METHODS", ["bank_transfer", "cash_on_delivery"])
# Shown to shoppers who pay by bank transfer.
BANK_TRANSFER_DETAILS = env_str(
    "BANK_TRANSFER_DETAILS", "IBAN DE00 0000 0000 0000 0000 00, BIC DEMODEFFXXX"
)
# Supplier lead time for reorder suggestions until a supplier says otherwise.
DEFAULT_LEAD_TIME_DAYS = env_int("DEFAULT_LEAD_TIME_DAYS", 14, minimum=1)
# Same-day shipping cut-off, store time ("HH:MM"): orders paid later ship the next day.
FULFILLMENT_CUTOFF = env_str("FULFILLMENT_CUTOFF", "14:00")
if not (
    len(FULFILLMENT_CUTOFF) == 5
    and FULFILLMENT_CUTOFF[2] == ":"
    and FULFILLMENT_CUTOFF.replace(":", "").isdigit()
    and int(FULFILLMENT_CUTOFF[:2]) < 24
    and int(FULFILLMENT_CUTOFF[3:]) < 60
):
    raise ImproperlyConfigured(
        f"FULFILLMENT_CUTOFF must be a time as HH:MM (like 14:00), not {FULFILLMENT_CUTOFF!r}."
    )
# Days after delivery in which a shopper may ask to return items.
RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 30, minimum=0)

# --- Static and media ----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Files that must never be served (uploaded imports): outside MEDIA_ROOT, in VAR_DIR,
    # which the web server and the workers share.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "private"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING" if not DEBUG else "INFO"}},
}
