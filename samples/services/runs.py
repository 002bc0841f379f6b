"""The lab follows its workflow runs when the console restarts one from a step."""

from __future__ import annotations

from typing import Any

from samples.models import Batch, Sample


def follow_restarted_run(*, old_run_id: str, new_run_id: str, **_: Any) -> None:
    """A restarted lifecycle or batch run: its sample or batch now follows the new run (in the
    restart's transaction; the change is audited like any other)."""
    Sample.objects.filter(run_id=old_run_id).update(run_id=new_run_id)
    Batch.objects.filter(run_id=old_run_id).update(run_id=new_run_id)
