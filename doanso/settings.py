"""The one settings module of Đoàn Số. Everything that differs between machines comes from the environment.

See docs/configuration.md (and the README) for every variable.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip()
    if not value:  # unset or empty: the default, so "VAR=" cannot switch a safety default off
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or os.environ.get("DOANSO_TESTING") == "1"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and (DEBUG or TESTING):
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
# Without DEBUG an empty key stays empty: commands that sign nothing (makemigrations, check, compilemessages)
# still run, and Django itself refuses to start the web application ("The SECRET_KEY setting must not be empty").

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "ninja",
    "doanso.core",
    "doanso.org",
    "doanso.accounts",
    "doanso.members",
    "doanso.sites",
    "doanso.contests",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "doanso.core.middleware.RefuseNulMiddleware",
    "doanso.contests.middleware.ContestantLaneMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "doanso.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "doanso.core.middleware.RequestContextMiddleware",
    # Axes goes last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]
# The contestants' lane (ContestantLaneMiddleware above, decision 0016): the API's answer save and submit, which
# need no cookie, session or login, run only these of MIDDLEWARE, in the same order.
CONTESTANT_LANE_MIDDLEWARE = [
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "doanso.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "doanso.urls"
WSGI_APPLICATION = "doanso.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "doanso.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE") or 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN, which
        # serialises structural writes to the unit tree the way an advisory lock does on PostgreSQL.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=15000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, tasks -----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "doanso",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    # django-tasks-rq jobs need their own job class in the worker, whoever starts it.
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "doanso"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
if REDIS_URL:
    # Workers: `manage.py rqworker default --job-class django_tasks_rq.Job` (see deploy/).
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
if TESTING and not env_bool("DOANSO_TEST_REAL_QUEUE"):
    # Tests run tasks inline, so a test sees the finished task without a worker.
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# --- Authentication -------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "doanso.accounts.backends.PhoneOrEmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Failed-login throttling (django-axes): lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Behind nginx on a unix socket REMOTE_ADDR is empty: use the same client address as the audit log (X-Real-IP).
AXES_CLIENT_IP_CALLABLE = "doanso.core.middleware.client_ip"

OTP_TOTP_ISSUER = "Đoàn Số"
# Platform administrators must use a second factor; set to 0 only on a throw-away demo machine.
DOANSO_REQUIRE_2FA_FOR_ADMINS = env_bool("DOANSO_REQUIRE_2FA_FOR_ADMINS", True)
DOANSO_INVITATION_DAYS = 7

# Rules of the Union charter that may change (Điều lệ khóa XII, amended in 2026): settings, never constants.
DOANSO_RULES = {
    "admission_min_age": 15,  # at least 15 years and one day on the day of consideration
    "admission_max_age": 30,
    "member_age_limit": 30,  # members over it graduate (trưởng thành) …
    "extended_age_limit": 35,  # … unless the branch keeps them, up to this age
    "introducer_known_months": 3,  # the introducing member has known the applicant this long
    "strike_off_months": 3,  # months in a year without attending or paying before striking off
    "excellent_min_participation": 90,  # % of activities for the top annual rating
}

# --- E-mail ---------------------------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL.startswith("smtp"):
    from urllib.parse import unquote, urlparse

    _mail = urlparse(EMAIL_URL)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _mail.hostname or "localhost",
                "port": _mail.port or (465 if EMAIL_URL.startswith("smtps") else 587),
                "username": unquote(_mail.username or ""),
                "password": unquote(_mail.password or ""),
                "use_tls": EMAIL_URL.startswith("smtp+tls"),
                "use_ssl": EMAIL_URL.startswith("smtps"),
            },
        }
    }
else:
    # Without EMAIL_URL messages are printed on the console (the demo shows password-reset links there).
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Đoàn Số <no-reply@localhost>")

# --- Internationalisation -------------------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True
# dd/mm/yyyy in both languages (the Vietnamese convention, also used by the English UI).
FORMAT_MODULE_PATH = ["doanso.formats"]

# --- Static and media -----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Files with personal data (export results, error reports) live outside MEDIA_ROOT, so the web server never
# serves them; views hand them out after a permission check.
PRIVATE_ROOT = Path(os.environ.get("PRIVATE_ROOT", BASE_DIR / "var" / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_ROOT}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("HTTPS", False)
CSRF_COOKIE_SECURE = env_bool("HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("HTTPS", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("HTTPS", False):
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or 31536000)
# nginx redirects HTTP to HTTPS (deploy/nginx.conf), so Django does not.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# --- Digital sites ----------------------------------------------------------------------------------------------
# The map's tile server: any {z}/{x}/{y} URL (an own tile server, a licensed provider). The page works without it:
# markers and the list still show when tiles cannot load (offline, blocked). Its origin is added to img-src of the
# map page's Content-Security-Policy only.
# The address printed in QR codes (https://doanso.example.vn); empty: the host of the request that made the board.
DOANSO_PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
DOANSO_SITES = {
    "tile_url": os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    "tile_attribution": os.environ.get("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors"),
    # Directions open the visitor's map application; {lat} and {lon} are filled in.
    "directions_url": os.environ.get(
        "MAP_DIRECTIONS_URL", "https://www.google.com/maps/dir/?api=1&destination={lat},{lon}"
    ),
    # Upload limits in megabytes, within nginx's client_max_body_size (60m). Longer videos go on a video platform
    # and the site links them: a visitor on a mountain connection streams them from there.
    "max_photo_mb": 20,
    "max_video_mb": 50,
    "max_audio_mb": 30,
    "max_document_mb": 20,
    # The emblem printed on QR boards (a static file). The one shipped is a neutral mark (a star in a circle),
    # not the Union's official emblem: put the official file in static and name it here.
    "board_emblem": os.environ.get("SITES_BOARD_EMBLEM", "sites/emblem.svg"),
    "board_heading": "ĐOÀN TNCS HỒ CHÍ MINH",
    # Public pages are cached this long; every edit through the services clears them at once.
    "page_cache_seconds": int(os.environ.get("SITES_PAGE_CACHE_SECONDS") or 600),
}

# --- API --------------------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
