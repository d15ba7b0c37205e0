"""Settings for the contest throughput benchmark's gunicorn: the project's own, plus a trivial view to compare
with, and rate limits high enough that one load generator on one address is not refused (the limits are still
counted, so their cost is in the measurement)."""

from doanso.settings import *  # noqa: F403

ROOT_URLCONF = "_contest_urls"
CONTEST_RATE_LIMITS = {
    "register": (10**9, 600),
    "start": (10**9, 600),
    "save": (10**9, 60),
    "save_ip": (10**9, 60),
    "submit": (10**9, 60),
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
