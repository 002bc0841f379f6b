"""Container health checks that are not HTTP: ``python -m labtrack.probe beat``.

``beat`` exits 0 when Celery beat's heartbeat (``labtrack.beat``) is younger than
``HEALTH_BEAT_MAX_AGE_SECONDS``, and 1 otherwise, printing the age either way. It reads the
heartbeat from the cache, so it proves beat is ticking, not only that its process exists.
"""

from __future__ import annotations

import argparse
import os
import sys


def check_beat() -> int:
    from django.conf import settings

    from labtrack.beat import beat_status

    status = beat_status()
    age = "no heartbeat" if status.age is None else f"last heartbeat {status.age:.0f}s ago"
    limit = settings.HEALTH_BEAT_MAX_AGE_SECONDS
    print(f"beat: {status.state} ({age}; limit {limit}s)")
    return 0 if status.ok else 1


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m labtrack.probe", description=__doc__)
    found.add_argument("part", choices=["beat"], help="what to check")
    return found


def main(argv: list[str] | None = None) -> int:
    parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    return check_beat()


if __name__ == "__main__":
    sys.exit(main())
