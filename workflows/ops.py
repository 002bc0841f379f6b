"""The engine for operators and the audit trail. Workflow code and the code that starts,
signals and reads runs use ``workflows.api``; every other module in ``workflows`` is internal.

- **The operations console**: runs listed a page at a time (``runs_list``), counted per
  status (``runs_counts``) and filtered (``RunFilter``); a run's steps (``run_steps``); what
  runs wait for (``waiting_for``, and as data for an application's own words: ``runs_waits``,
  ``RunWaits``); the workflows and versions runs are pinned to
  (``workflow_versions``, ``unfinished_by_version``).
- **People acting on runs**: retry, resume, and cancel or restart once a second person
  approves (``intervene``, ``decide``, ``interventions_of``; ``InterventionRefused`` when
  nothing changed). ``run_restarted`` tells the application that holds a run's id to follow
  its restart.
- **The deploy check**: ``replay_check`` replays runs against the code now loaded, recording
  nothing, and names those that would block (``ReplayProblem``).
- **The audit trail**: the history of every run as SQL to join with the application's own
  tables (``history_sql``, ``HISTORY_COLUMNS``, ``HISTORY_KINDS``); the hash chains checked
  (``verify_history``, ``ChainReport``, ``BrokenLink``, a part at a time: ``HISTORY_SHARDS``);
  their heads read and compared, for anchoring outside the database (``history_heads``,
  ``history_heads_check``, ``HistoryHead``, ``HeadChange``).
- **Running in-process**: ``run_inline`` runs the engine's work in the calling process instead
  of on workers (commands that build demo data).
"""

from __future__ import annotations

from workflows.anchors import HeadChange, HistoryHead, history_heads, history_heads_check
from workflows.console import (
    RunFilter,
    RunRow,
    RunWaits,
    StepRow,
    VersionLoad,
    run_steps,
    runs_counts,
    runs_list,
    runs_waits,
    unfinished_by_version,
    waiting_for,
    workflow_versions,
)
from workflows.errors import InterventionRefused
from workflows.history import HISTORY_COLUMNS, HISTORY_KINDS, history_sql
from workflows.inline import InlineRunner
from workflows.integrity import SHARDS as HISTORY_SHARDS
from workflows.integrity import BrokenLink, ChainReport, verify_history
from workflows.interventions import (
    InterventionInfo,
    decide,
    intervene,
    interventions_of,
    run_restarted,
)
from workflows.operations import ReplayProblem, replay_check

__all__ = [
    "HISTORY_COLUMNS",
    "HISTORY_KINDS",
    "HISTORY_SHARDS",
    "BrokenLink",
    "ChainReport",
    "HeadChange",
    "HistoryHead",
    "InlineRunner",
    "InterventionInfo",
    "InterventionRefused",
    "ReplayProblem",
    "RunFilter",
    "RunRow",
    "RunWaits",
    "StepRow",
    "VersionLoad",
    "decide",
    "history_heads",
    "history_heads_check",
    "history_sql",
    "intervene",
    "interventions_of",
    "replay_check",
    "run_inline",
    "run_restarted",
    "run_steps",
    "runs_counts",
    "runs_list",
    "runs_waits",
    "unfinished_by_version",
    "verify_history",
    "waiting_for",
    "workflow_versions",
]


def run_inline() -> InlineRunner:
    """Run the engine's work in this process instead of on workers::

        with run_inline() as engine:
            start("sample_lifecycle", "S-1")
            engine.run_until_idle()  # every advance, step and due timer, until nothing moves

    For commands that must see their workflows move on without a worker (demo data). Nothing
    is sent to the broker inside the block.
    """
    return InlineRunner()
