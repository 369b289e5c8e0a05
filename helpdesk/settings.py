"""Settings, read from the environment only. Production-safe unless DEBUG is set."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)
TESTING: bool = env.bool("HELPDESK_TESTING", default=False)

if DEBUG or TESTING:
    SECRET_KEY = env(
        "SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789"
    )
else:
    # No default on purpose: a production deployment without its own key must not start.
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks,
# comma-separated). Empty: nobody's (helpdesk.proxy drops those headers).
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
# Connections a tenant's settings can aim (mail servers, webhooks) may reach private, loopback
# and reserved addresses only when the platform operator allows it (helpdesk.outbound).
OUTBOUND_ALLOW_PRIVATE: bool = env.bool("OUTBOUND_ALLOW_PRIVATE", default=DEBUG)
# Component detail of /healthz (database, Redis, workers) for whoever sends this token.
HEALTHZ_TOKEN: str = env.str("HEALTHZ_TOKEN", default="")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "axes",
    # After django.contrib.auth: helpdesk replaces its last-login handler (see HelpdeskConfig).
    # helpdesk's `migrate` (as the owner role) still wins over Django's own.
    "helpdesk",
    "tickets",
    "channels_conn",
    "channels_conn.twitter",
    "admin_config",
    "workflow",
    "desk",
    "analytics",
    "exports",
    "publishing",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "helpdesk.middleware.TenantMiddleware",
    "helpdesk.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "helpdesk.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.context_processors.shell",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL is the application's role (row-level security applies to it).
# DATABASE_OWNER_URL is the role that owns the tables and runs migrations; it defaults to
# DATABASE_URL for single-role deployments (a system check warns about that).
DATABASES = {"default": env.db("DATABASE_URL", default="postgresql://helpdesk_app@/helpdesk")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_OWNER: dict = env.db(
    "DATABASE_OWNER_URL",
    default=env.str("DATABASE_URL", default="postgresql://helpdesk_app@/helpdesk"),
)
# Kept apart because the connection's settings switch to the owner while migrating.
DATABASE_APP_ROLE: str = DATABASES["default"].get("USER") or ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery ----------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")


def _celery_redis_url(url: str) -> str:
    """Kombu names a Redis unix socket `redis+socket://`; redis-py names it `unix://`."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return url


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "helpdesk",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # socket_timeout None: channels_redis waits for messages with a 5 s blocking read, and
        # redis-py's default 5 s socket timeout would kill every idle consumer
        # (channels_redis#422).
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "capacity": 1500,
            "expiry": 30,
        },
    }
}
CELERY_BROKER_URL = _celery_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "var" / "celerybeat-schedule")
)

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "helpdesk.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "helpdesk.auth.EmailBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
)
# Throttling of failed logins: 5 failures for one (email, IP) pair lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# One spelling of the email for lockout and login; the peer address only (see helpdesk.proxy).
AXES_USERNAME_CALLABLE = "helpdesk.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "helpdesk.lockout.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_ENGINE = "helpdesk.sessions"  # sessions name their person (helpdesk.models.UserSession)
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# --- Security outside DEBUG -----------------------------------------------------------------
SECURE = not DEBUG and not TESTING
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probed over plain HTTP inside the deployment
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
# No SECURE_PROXY_SSL_HEADER: helpdesk.proxy sets the scheme from trusted proxies only.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# auth.W004: the email is unique among people who can log in (a conditional constraint; see
# User.email), which is what EmailBackend looks up.
SILENCED_SYSTEM_CHECKS: list[str] = ["auth.W004"]

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Helpdesk <no-reply@localhost>")

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "America/Santiago"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
# Development and tests serve from the finders; only production collects into STATIC_ROOT.
STATIC_ROOT = None if DEBUG or TESTING else BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# In development and tests whitenoise serves straight from the apps' static folders, so no
# collectstatic is needed; production serves the collected, hashed files.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"

# --- Providers (used by the channel connectors) ---------------------------------------------
GRAPH_API_BASE_URL: str = env.str("GRAPH_API_BASE_URL", default="https://graph.facebook.com")
TWITTER_API_BASE_URL: str = env.str("TWITTER_API_BASE_URL", default="https://api.twitter.com")
GRAPH_API_VERSION: str = env.str("GRAPH_API_VERSION", default="v25.0")
# The platform's Meta app: signs every webhook (a tenant's account may bring its own secret).
# In development they default to fixed values so `manage.py simulate_inbound` works at once.
META_APP_SECRET: str = env.str("META_APP_SECRET", default="dev-meta-app-secret" if DEBUG else "")
META_VERIFY_TOKEN: str = env.str("META_VERIFY_TOKEN", default="dev-verify-token" if DEBUG else "")
META_APP_ID: str = env.str("META_APP_ID", default="")
# Threads (each with a database connection it keeps) that store Meta's webhook POSTs in each
# web process; a delivery is one INSERT, so a few carry hundreds a second.
META_WEBHOOK_THREADS: int = env.int("META_WEBHOOK_THREADS", default=4)
# Media is downloaded only from the Graph host and Meta's CDN hosts (no URL a payload names).
META_MEDIA_HOSTS: list[str] = env.list(
    "META_MEDIA_HOSTS", default=["lookaside.fbsbx.com", ".fbcdn.net", ".cdninstagram.com"]
)
# The site's public address (https://desk.example.com): Instagram fetches the files we send
# from signed links under it. Empty: Instagram answers go out without files, saying why.
PUBLIC_BASE_URL: str = env.str("PUBLIC_BASE_URL", default="")
FIELD_ENCRYPTION_KEY: str = env.str("FIELD_ENCRYPTION_KEY", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
