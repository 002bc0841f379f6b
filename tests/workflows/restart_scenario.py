"""Run by test_durability in its own process, against a private PostgreSQL it may restart.

Usage: python -m tests.workflows.restart_scenario DATA_DIR JOURNAL_DIR
Starts durable.crash, restarts PostgreSQL while the slow step runs, sweeps (as beat would)
until the run finishes, and prints a JSON summary of the history for the test to check.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import django
from django.db import InterfaceError, OperationalError, connection


def retrying(action):
    """Call ``action`` until the database answers (it is restarting)."""
    for _ in range(600):
        try:
            return action()
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(0.1)
    raise RuntimeError("the database did not come back")


def main(data_dir: Path, folder: Path) -> None:
    django.setup()
    from labtrack import embedded
    from tests.workflows import durable_defs  # noqa: F401
    from workflows import executor
    from workflows.api import get_run, start
    from workflows.models import HistoryEvent

    run_id = start("durable.crash", str(folder))
    journal = folder / "journal.txt"
    deadline = time.monotonic() + 60
    while not (journal.exists() and "start" in journal.read_text()):
        if time.monotonic() > deadline:
            raise RuntimeError("the slow step never started")
        time.sleep(0.05)
    embedded.stop_postgres(data_dir)  # mid-step: the step's result cannot be recorded now
    time.sleep(2)
    embedded.start_postgres(data_dir)
    connection.close()
    deadline = time.monotonic() + 90
    while retrying(lambda: get_run(run_id).status) != "completed":
        if time.monotonic() > deadline:
            raise RuntimeError("the run did not finish after the restart")
        retrying(executor.sweep)
        time.sleep(0.5)
    run = get_run(run_id)
    events = list(HistoryEvent.objects.filter(run_id=run_id).values_list("seq", "kind", "cmd"))
    print(json.dumps({"result": run.result, "events": events}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
