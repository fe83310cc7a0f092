"""Django settings; every value comes from `safeguard.config.env`, the environment's one reader."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF

from safeguard.config import env

CONFIG = env.load()

DEBUG = False
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
SAFEGUARD_MODE = CONFIG.mode
SAFEGUARD_VAR_DIR = CONFIG.var_dir
SAFEGUARD_VAULT_DIR = CONFIG.var_dir / "vault"
SAFEGUARD_VAULT_KEY = CONFIG.vault_key
# The audit log (docs/audit-and-evidence.md): the checkpoint signing key (never in the database),
# the log's origin, and where each checkpoint is exported as it is made.
SAFEGUARD_AUDIT_SIGNING_KEY = CONFIG.audit_signing_key
SAFEGUARD_AUDIT_ORIGIN = CONFIG.audit_origin
SAFEGUARD_AUDIT_WITNESS_FILE = CONFIG.audit_witness_file
SAFEGUARD_AUDIT_WITNESS_WEBHOOK_URL = CONFIG.audit_witness_url
SAFEGUARD_AUDIT_WITNESS_WEBHOOK_SECRET = CONFIG.audit_witness_secret
SAFEGUARD_AUDIT_CHECKPOINT_SECONDS = CONFIG.audit_checkpoint_seconds
SAFEGUARD_INDEX_DIR = CONFIG.var_dir / "index"
# PDQ hashes below this quality are refused as bank entries; queries below it still match,
# marked low-confidence (a dark or low-contrast copy of a known image keeps its hash).
SAFEGUARD_PDQ_MIN_QUALITY = 50
SAFEGUARD_MAX_MEDIA_BYTES = CONFIG.max_media_bytes
# The host platform that service accounts belong to unless created for another; its content ids
# are its own, and only its service accounts may describe or upload that content.
SAFEGUARD_PLATFORM = CONFIG.platform
SAFEGUARD_PLATFORM_TIME_ZONE = CONFIG.platform_time_zone
# Until the rota lands, on-call is an ordered list of usernames; a P0 pages the first, and an
# unacknowledged page pages the next one and the lead.
SAFEGUARD_ONCALL = CONFIG.oncall
SAFEGUARD_ONCALL_LEAD = CONFIG.oncall_lead
# Law enforcement (docs/law-enforcement.md): who is paged for an overdue request until the rota
# lands; how long a verification of an agency or a person holds; whose public holidays end an
# EU legal period late; the agency directory for outbound referrals (the synthetic demo one by
# default); and how long an outbound referral may wait for the agency's acknowledgement.
SAFEGUARD_LEGAL_ONCALL = CONFIG.legal_oncall
SAFEGUARD_LE_VERIFICATION_DAYS = CONFIG.le_verification_days
SAFEGUARD_LE_HOLIDAY_COUNTRY = CONFIG.le_holiday_country
SAFEGUARD_LE_DIRECTORY = CONFIG.le_directory_file
SAFEGUARD_LE_REFERRAL_ACK_MINUTES = CONFIG.le_referral_ack_minutes
# The EU Member States, whose requests default to the EU instruments (Regulation 2023/1543).
SAFEGUARD_EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
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
    # django-csp: its system checks (the policy itself is set by the middleware below).
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Counts failed sign-ins and locks out guessers (safeguard.accounts.throttle).
    "axes",
    "ninja",
    # Serves the htmx it ships ({% htmx_script %}) and marks htmx requests (request.htmx).
    "django_htmx",
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
    "safeguard.lawenforcement",
    "safeguard.rota",
    "safeguard.matching",
    "safeguard.actions",
]

MIDDLEWARE = [
    # First, so every response carries the policy: SecurityMiddleware's redirects to HTTPS and
    # WhiteNoise's static files too. A policy a view set itself is kept.
    "safeguard.config.csp.RoutePolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Under /api/: refuses an oversized body before it is read, and answers every error as JSON
    # (Django's 404, 405, 400 and 500 pages included); inside the two above, so they still add
    # their headers to its answers.
    "safeguard.config.api_errors.ApiErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when this session has passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    # Times on pages in the person's zone (profile, else browser, else UTC); stored in UTC.
    "safeguard.accounts.timezones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: a partial update asks for a fragment, not the whole page.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a sign-in refused by the throttle into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                # Whether the console's navigation and live regions show (signed in and past the
                # second factor), and how often the live regions poll.
                "safeguard.review.live.context",
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

# Sign-in throttling (django-axes; safeguard.accounts.throttle, docs/security.md). Failures are
# counted per account and address, and per address: 10 for one account from one address, 50 for
# all accounts from one address (an IPv6 address counts as its /64), each within 15 minutes of
# the last. A guesser elsewhere cannot lock the on-call specialist out. Wrong second-factor and
# enrolment codes count on the same keys. `safeguard users unlock` lifts a lockout (audited).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "safeguard.accounts.throttle.SignInThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = 10
SAFEGUARD_SIGN_IN_ADDRESS_FAILURE_LIMIT = 50
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Refusals during a lockout neither extend it nor append to the attempt row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A password alone is half a sign-in: the count is cleared once both factors pass.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "safeguard.accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "safeguard.accounts.throttle.lockout_response"
# No table of every successful sign-in's address: the audit log records what matters.
AXES_DISABLE_ACCESS_LOG = True
# Quiet at start-up (the command line's output stays the command's own).
AXES_VERBOSE = False
# Never kept in axes' record of a failed attempt.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code", "invite", "next"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp, `safeguard.config.csp`): script, style,
# images, media and fetches from this origin only, no inline script or style at all (every page's
# script and style is a static file), no plugins, no <base>, never framed, forms post here only.
# Injected markup can neither run script nor load anything from elsewhere: the only images are
# our static files and the vault's signed, blurred-until-revealed media URLs. Strings may not
# reach DOM sinks such as innerHTML (Trusted Types); the console's script builds its nodes with
# createElement and textContent.
# One Trusted Types policy exists, "default" (review/static/review/trusted-types.js, loaded before
# htmx): htmx 2 parses each fragment it swaps in with Document.parseHTMLUnsafe / DOMParser, a
# Trusted Types sink, and has no option to take a policy of its own. The policy passes a string
# at those two parsing sinks only, and only in the wrapper htmx builds for a partial response;
# innerHTML, insertAdjacentHTML, script text, script URLs and eval still throw. A named policy
# would be narrower still, but htmx 2 would never call it; `trusted-types default` (without
# 'allow-duplicates') lets no other script create a policy. See docs/security.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "media-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
        "require-trusted-types-for": ["'script'"],
        "trusted-types": ["default"],
    },
}
# The only routes whose policy differs, by URL name: the directives given replace the strict
# ones there (None drops one). Each widening is here, with its reason, rather than in a view.
SAFEGUARD_CSP_ROUTES: dict[str, dict[str, list[str] | None]] = {
    # Ninja's Swagger UI (served from our static files) writes its markup through innerHTML
    # (DOMPurify) and draws its icons as data: SVGs from its stylesheet; the page shows only the
    # API's schema, never case material.
    "api-v1:openapi-view": {
        "img-src": [SELF, "data:"],
        "require-trusted-types-for": None,
        "trusted-types": None,
    },
    # The enrolment QR code is an SVG made in the process (accounts.totp.qr_data_uri), shown
    # as a data: image; the page shows no case material.
    "two-factor-setup": {"img-src": [SELF, "data:"]},
}

# Livestreams (docs/search-and-bulk.md): the origins whose direct video streams the case page
# may play, blurred and muted until revealed. Only the case page's media-src widens to them; an
# intake whose viewer_url is elsewhere is refused (422).
SAFEGUARD_STREAM_ORIGINS = env.load_stream_origins(mode=CONFIG.mode)
if SAFEGUARD_STREAM_ORIGINS:
    SAFEGUARD_CSP_ROUTES.setdefault("console-case", {})["media-src"] = [
        SELF,
        *SAFEGUARD_STREAM_ORIGINS,
    ]

# HTTPS, in production only: development and the tests run on plain http://127.0.0.1, where
# HSTS would pin the browser to HTTPS on every local port for a year. `safeguard check --deploy`
# is clean with these (tests/config/test_security_headers.py).
SAFEGUARD_HTTPS = env.load_https()
if CONFIG.mode is env.Mode.PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = SAFEGUARD_HTTPS.ssl_redirect
    # Load balancers probe over plain HTTP: the health check answers there instead of redirecting.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole registrable domain, apex and every subdomain, to HTTPS in the
    # browsers' built-in lists, for months after it is withdrawn: the host platform's decision,
    # not Safeguard's, and one it can take only where Safeguard is served on the apex.
    SECURE_HSTS_PRELOAD = SAFEGUARD_HTTPS.hsts_preload
    if SAFEGUARD_HTTPS.behind_proxy:
        # The proxy terminates TLS and says so in X-Forwarded-Proto; it must replace any such
        # header a client sent, and be the only way to reach the web process.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Warnings for what the deployment decided, each on purpose: no preload (above), and no
    # redirect here where SAFEGUARD_SSL_REDIRECT=false says the proxy in front redirects.
    SILENCED_SYSTEM_CHECKS = [
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
        *([] if SECURE_SSL_REDIRECT else ["security.W008"]),
    ]

# Media arrives through the API into the vault, never into MEDIA_ROOT; files over this size are
# spooled to a temporary file instead of memory while the request is parsed.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# The database backend by default; RQ on Redis (SAFEGUARD_TASKS=rq) for workers on many hosts.
# Either way tasks are enqueued through safeguard.core.tasks.enqueue, after the commit.
SAFEGUARD_TASKS = env.load_tasks()
if SAFEGUARD_TASKS.backend is env.TaskBackend.RQ:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RQ_QUEUES = {"default": {"URL": SAFEGUARD_TASKS.redis_url, "DEFAULT_TIMEOUT": 600}}

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
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; every successful one need not be logged.
        "axes": {"level": "WARNING"},
    },
}
