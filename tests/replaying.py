"""The replay check every test that touches the database ends with (see ``tests/conftest.py``),
also callable inside a test whose code only exists while it runs."""

from __future__ import annotations

from workflows.ops import replay_check


def assert_every_history_replays() -> None:
    """Replay each run's whole recorded history from the table, from the top in a fresh
    session, against the code now loaded; fail if one blocks or reaches other decisions than
    those recorded."""
    checked, problems = replay_check(finished=True, strict=True)
    found = [
        f"{p.run_id} {p.workflow} v{p.version}: {p.reason}" for runs in problems.values()
        for p in runs
    ]  # fmt: skip
    assert not found, f"{len(found)} of {checked} run(s) do not replay:\n" + "\n".join(found)
