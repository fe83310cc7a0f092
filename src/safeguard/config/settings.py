"""Django settings; every value comes from `safeguard.config.env`, the environment's one reader."""

from __future__ import annotations

from typing import Any

import dj_database_url

from safeguard.config import env

CONFIG = env.load()

DEBUG = False
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
SAFEGUARD_MODE = CONFIG.mode
SAFEGUARD_VAR_DIR = CONFIG.var_dir
SAFEGUARD_VAULT_DIR = CONFIG.var_dir / "vault"
SAFEGUARD_VAULT_KEY = CONFIG.vault_key
SAFEGUARD_INDEX_DIR = CONFIG.var_dir / "index"
# PDQ hashes below this quality are refused as bank entries; queries below it still match,
# marked low-confidence (a dark or low-contrast copy of a known image keeps its hash).
SAFEGUARD_PDQ_MIN_QUALITY = 50
SAFEGUARD_MAX_MEDIA_BYTES = CONFIG.max_media_bytes
# Until the rota lands, on-call is an ordered list of usernames; a P0 pages the first, and an
# unacknowledged page pages the next one and the lead.
SAFEGUARD_ONCALL = CONFIG.oncall
SAFEGUARD_ONCALL_LEAD = CONFIG.oncall_lead
SAFEGUARD_PAGING_WEBHOOK_URL = CONFIG.paging_webhook_url
SAFEGUARD_PAGING_WEBHOOK_SECRET = CONFIG.paging_webhook_secret
SAFEGUARD_PAGE_ACK_SECONDS = CONFIG.page_ack_seconds
# The host platform's endpoint for actions (remove, restrict, ban, preserve, and reversals).
SAFEGUARD_PLATFORM_WEBHOOK_URL = CONFIG.platform_webhook_url
SAFEGUARD_PLATFORM_WEBHOOK_SECRET = CONFIG.platform_webhook_secret
SAFEGUARD_LEASE_SECONDS = 600
# Reviewer care: suggest a break after this many sensitive items revealed, or this many minutes
# holding cases in sensitive queues, in one day.
SAFEGUARD_BREAK_AFTER_ITEMS = 40
SAFEGUARD_BREAK_AFTER_MINUTES = 120
# Webhook retries wait 2 s, 4 s, 8 s … (capped at ten minutes).
SAFEGUARD_WEBHOOK_BACKOFF_SECONDS = 2.0

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "safeguard.config",
    "safeguard.accounts",
    "safeguard.audit",
    "safeguard.intake",
    "safeguard.evidence",
    "safeguard.cases",
    "safeguard.review",
    "safeguard.triage",
    "safeguard.rota",
    "safeguard.matching",
    "safeguard.actions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when this session has passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "safeguard.config.urls"
WSGI_APPLICATION = "safeguard.config.wsgi.application"

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
                "safeguard.review.context.exposure",
            ],
        },
    },
]


def _database(url: str | None) -> dict[str, Any]:
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    CONFIG.var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "safeguard.config.sqlite",
        "NAME": CONFIG.var_dir / "safeguard.sqlite3",
        "OPTIONS": {
            # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue on the
            # busy timeout instead of one failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
        },
    }


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# The name authenticator apps show beside the account (docs/two-factor.md).
OTP_TOTP_ISSUER = "Safeguard"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.mode is env.Mode.PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Media arrives through the API into the vault, never into MEDIA_ROOT; files over this size are
# spooled to a temporary file instead of memory while the request is parsed.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = CONFIG.email_backend
DEFAULT_FROM_EMAIL = CONFIG.email_from
EMAIL_HOST = CONFIG.email_host
EMAIL_PORT = CONFIG.email_port

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
