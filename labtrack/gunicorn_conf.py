"""The production web server's settings (``gunicorn -c python:labtrack.gunicorn_conf``), used by
the image and docker-compose's ``web``; each may be changed through the environment.

Worker class ``gthread``: each process serves ``WEB_THREADS`` requests at once from a thread
pool while its main thread keeps telling the arbiter it is alive. So ``WEB_TIMEOUT`` (30 s)
restarts a process that is stuck, but never cuts a long answer that is making progress: a
streamed audit export of any size runs to its manifest. (With gunicorn's default ``sync``
worker the same timeout kills any request that lasts longer than 30 seconds.) Work that takes
longer than a person should wait is not done in a request at all: imports, chain checks and PDF
exports are background jobs on the Celery workers.

``WEB_GRACEFUL_TIMEOUT`` (120 s) is how long a process that is told to stop (a deploy, a restart)
goes on serving the requests under way, a long export included, before it is killed.
"""

import os

from labtrack.logs import LOG_FORMATS, LOG_LEVELS, RequestContentWithheld, logging_config


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    number = int(value)  # a typo stops the server at start, with the name in the traceback
    if number < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return number


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
# "sync" would cut a long answer at ``timeout``; note that gunicorn also turns "sync" into
# gthread by itself whenever threads > 1.
worker_class = "gthread"
workers = _number("WEB_WORKERS", 3)
threads = _number("WEB_THREADS", 4)
timeout = _number("WEB_TIMEOUT", 30)
graceful_timeout = _number("WEB_GRACEFUL_TIMEOUT", 120)
keepalive = 5
# No runtime control socket (gunicornc): restarts and scaling go through compose.
control_socket_disable = True
# gunicorn's own lines (start-up, worker boots and exits, timeouts) go through LabTrack's log
# handler: JSON or console like every other line (LOG_FORMAT, LOG_LEVEL; see labtrack/logs.py).
# No access log of its own: each request is logged once by the application (request_finished,
# with its request id).
_debug = os.environ.get("DEBUG", "").strip().lower() in ("true", "1")
_format = os.environ.get("LOG_FORMAT", "").strip().lower() or ("console" if _debug else "json")
_level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if _format not in LOG_FORMATS or _level not in LOG_LEVELS:
    raise ValueError(f"LOG_FORMAT {_format!r} or LOG_LEVEL {_level!r} is not one LabTrack knows")
accesslog = None
errorlog = "-"
logconfig_dict = logging_config(level=_level, log_format=_format)
# A request it cannot read is logged without its content (an MLLP message sent here by mistake
# holds patient data): labtrack.logs.RequestContentWithheld.
logconfig_dict["filters"]["request_content_withheld"] = {"()": RequestContentWithheld}
logconfig_dict["loggers"]["gunicorn.error"] = {
    "handlers": ["console"],
    "propagate": False,
    "filters": ["request_content_withheld"],
}
# Proxies in front (see docs/deployment.md) send X-Forwarded-*; Django decides what to trust.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
