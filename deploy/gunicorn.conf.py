"""gunicorn settings for Đoàn Số (used by deploy/doanso-web.service: `gunicorn --config deploy/gunicorn.conf.py`).

A few values can be changed without editing this file, through /etc/doanso/doanso.env:
GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT. See docs/deployment.md.
"""

import os


def _cpu_count() -> int:
    # The CPUs this process may use (respects taskset/cpusets), not every CPU of the host.
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "doanso.wsgi:application"

# nginx connects through this socket (deploy/nginx.conf). /run/doanso is created by systemd
# (RuntimeDirectory=doanso) and removed when the service stops.
bind = [os.environ.get("GUNICORN_BIND", "unix:/run/doanso/gunicorn.sock")]
# The socket is made with this umask: srwxrwx--- doanso:doanso, so nginx needs to be in the doanso group
# (`usermod -aG doanso www-data`). Only the socket and gunicorn's temporary files use it.
umask = 0o007
# gunicorn's control socket (for `gunicornc -s /run/doanso/gunicorn.ctl`), next to the web socket and usable
# only by the doanso user. systemd sets RUNTIME_DIRECTORY to /run/doanso.
control_socket = os.path.join(os.environ.get("RUNTIME_DIRECTORY", "/run/doanso"), "gunicorn.ctl")

# Processes × threads = requests served at the same time. Every thread keeps its own database connection
# (CONN_MAX_AGE), so workers × threads (+ the task workers) must stay below PostgreSQL's max_connections.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * _cpu_count() + 1))
worker_class = "gthread"
# 8 threads: an answer save waits for its batch's commit (decision 0014), and with more requests in flight per
# process the batches grow and each save costs less; pages that only compute are not slowed (measured in
# bench/contest_answers.py: the trivial view equal with 4 and 8 threads, the save 0.38x -> 0.46x of it).
threads = int(os.environ.get("GUNICORN_THREADS", 8))

# A request that takes longer than this is killed (long work belongs in background tasks).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle each worker process after this many requests (+ jitter so they do not all restart together),
# which caps the effect of any slow memory growth.
max_requests = 2000
max_requests_jitter = 200

# Logs go to stdout/stderr, i.e. the journal: `journalctl -u doanso-web`.
accesslog = "-"
errorlog = "-"
loglevel = "info"
# The first field is the visitor's address as nginx saw it (X-Real-IP); over the unix socket gunicorn's
# own remote address (%(h)s) is empty. %(M)s is the response time in milliseconds.
access_log_format = '%({x-real-ip}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
proc_name = "doanso-web"
