"""Django settings for Backline. Operators configure it with BACKLINE_* variables (see config.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from backline import config

try:
    DEBUG = config.env_bool("BACKLINE_DEBUG", False)
    SECRET_KEY = config.secret_key()
    TIME_ZONE = config.time_zone()
    ALLOWED_HOSTS = config.allowed_hosts(DEBUG)
    DATABASES = {"default": config.database()}
    SESSION_COOKIE_AGE = config.env_int("BACKLINE_SESSION_SECONDS", 8 * 3600, minimum=60)
    AUTO_CLOSE_RESOLVED_DAYS = config.env_int("BACKLINE_AUTO_CLOSE_DAYS", 3, minimum=0)
    BACKLINE_HANDOFF_GRACE_MINUTES = config.env_int(
        "BACKLINE_HANDOFF_GRACE_MINUTES", 120, minimum=0
    )
    # Notifications (docs/notifications.md).
    NOTIFY_MAX_ATTEMPTS = config.env_int("BACKLINE_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
    NOTIFY_LEASE_SECONDS = config.env_int("BACKLINE_NOTIFY_LEASE_SECONDS", 120, minimum=1)
    NOTIFY_TIMEOUT_SECONDS = config.env_int("BACKLINE_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
    NOTIFY_BACKOFF_SECONDS = config.env_int("BACKLINE_NOTIFY_BACKOFF_SECONDS", 30, minimum=0)
    NOTIFY_BACKOFF_CAP_SECONDS = config.env_int("BACKLINE_NOTIFY_BACKOFF_CAP_SECONDS", 3600)
    NOTIFY_SWEEP_SECONDS = config.env_int("BACKLINE_NOTIFY_SWEEP_SECONDS", 60, minimum=1)
    NOTIFY_SMTP_PORT = config.env_int("BACKLINE_SMTP_PORT", 25, minimum=1)
    NOTIFY_SMTP_STARTTLS = config.env_bool("BACKLINE_SMTP_STARTTLS", False)
    BACKLINE_LOG_SOURCE = os.environ.get("BACKLINE_LOG_SOURCE", "duckdb").strip().lower()
    if BACKLINE_LOG_SOURCE not in {"duckdb", "datadog"}:
        raise config.ConfigError(
            f"BACKLINE_LOG_SOURCE must be duckdb or datadog (got {BACKLINE_LOG_SOURCE!r})"
        )
    BACKLINE_LOG_RETENTION_DAYS = config.env_int("BACKLINE_LOG_RETENTION_DAYS", 30, minimum=1)
    # Days finished background-task rows are kept (the daily retention run deletes older ones).
    TASK_RESULT_DAYS = config.env_int("BACKLINE_TASK_RESULT_DAYS", 14, minimum=1)
    # Seconds between two runs of continuous detection (escalation.tasks).
    DETECTION_SECONDS = config.env_int("BACKLINE_DETECTION_SECONDS", 15, minimum=5)
    # Datadog Logs API (only read when BACKLINE_LOG_SOURCE=datadog): site such as datadoghq.com,
    # or a full URL (tests point it at a local server).
    BACKLINE_DATADOG_SITE = os.environ.get("BACKLINE_DATADOG_SITE", "datadoghq.com").strip()
    BACKLINE_DATADOG_API_KEY = os.environ.get("BACKLINE_DATADOG_API_KEY", "")
    BACKLINE_DATADOG_APP_KEY = os.environ.get("BACKLINE_DATADOG_APP_KEY", "")
    if BACKLINE_LOG_SOURCE == "datadog" and not (
        BACKLINE_DATADOG_API_KEY and BACKLINE_DATADOG_APP_KEY
    ):
        raise config.ConfigError(
            "BACKLINE_LOG_SOURCE=datadog needs BACKLINE_DATADOG_API_KEY and BACKLINE_DATADOG_APP_KEY"
        )
except config.ConfigError as exc:
    # Named after the variable, without a traceback: this is an operator's typo, not a bug.
    raise ImproperlyConfigured(str(exc)) from None

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = config.var_dir()
SITE_URL = os.environ.get("BACKLINE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
NOTIFY_PAGERDUTY_EVENTS_URL = os.environ.get(
    "BACKLINE_PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com"
).rstrip("/")
NOTIFY_SLACK_WEBHOOK_HOSTS = [
    h.strip() for h in os.environ.get("BACKLINE_SLACK_WEBHOOK_HOSTS", "hooks.slack.com").split(",")
]
NOTIFY_CA_FILE = os.environ.get("BACKLINE_NOTIFY_CA_FILE", "")  # extra CA bundle to trust
NOTIFY_SMTP_HOST = os.environ.get("BACKLINE_SMTP_HOST", "127.0.0.1")
NOTIFY_SMTP_USER = os.environ.get("BACKLINE_SMTP_USER", "")
NOTIFY_SMTP_PASSWORD = os.environ.get("BACKLINE_SMTP_PASSWORD", "")
NOTIFY_EMAIL_FROM = os.environ.get("BACKLINE_EMAIL_FROM", "Backline <backline@localhost>")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "backline.accounts",
    "backline.audit",
    "backline.calendars",
    "backline.tickets",
    "backline.oncall",
    "backline.logs",
    "backline.health",
    "backline.notify",
    "backline.web",
    "backline.patterns",
    "backline.workbench",
    "backline.escalation",
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
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "backline.urls"
WSGI_APPLICATION = "backline.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

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
                "backline.web.context.backline",
            ],
        },
    }
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SESSION_SAVE_EVERY_REQUEST = True  # expiry counts from the last request, not from sign-in
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = config.env_bool("BACKLINE_SECURE_COOKIES", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

USE_I18N = False
USE_TZ = True
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing folder before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if "pytest" in sys.modules
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

NINJA_PAGINATION_PER_PAGE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
