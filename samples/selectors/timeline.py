"""A sample's timeline, as its page shows it: each event of its lifecycle worth a line, in the
words of ``samples.selectors.words``, with who, when and why, and the corrections of its
results and the calls of its critical values placed among them by time. Reads only."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import dropwhile

from samples.models import Instrument, Sample
from samples.selectors.corrections import result_corrections
from samples.selectors.critical import critical_timeline
from samples.selectors.specimens import sample_runs
from samples.selectors.words import history_words, step_said
from workflows.api import HistoryEntry


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    who: str
    why: str


# The events that get a line: what people did and what happened to the sample. A step done gets
# one when it says what happened (``step_said``); the rest of the engine's bookkeeping (steps
# scheduled and started, waits, signals taken, timers) is the audit trail's to show.
SHOWN_KINDS = frozenset(
    {
        "run_started",
        "signal_received",
        "step_failed",
        "wait_timed_out",
        "run_completed",
        "run_failed",
        "cancel_requested",
        "intervention_requested",
        "intervention_approved",
        "intervention_refused",
        "retry_requested",
        "resume_requested",
        "run_restarted",
        "run_superseded",
    }
)


def _shown(event: HistoryEntry) -> bool:
    if event.kind == "step_completed":
        return step_said(event.data.get("step", ""))
    return event.kind in SHOWN_KINDS


def sample_timeline(sample: Sample) -> list[TimelineEntry]:
    """Every event of the sample's lifecycle in words: what, who, when, why. After a restart
    from a step, the old run's events, then the new run's from its restart on (those before
    repeat the old run's); each correction run after release (its own history) in full.
    Corrections of its results (made outside the lifecycle) are placed among them by time,
    each with the value and flag before and after."""
    entries = []
    for index, run in enumerate(sample_runs(sample)):  # oldest first
        events = run.history
        if index and any(e.kind == "run_restarted" for e in events):
            events = list(dropwhile(lambda e: e.kind != "run_restarted", events))
        entries += [
            TimelineEntry(
                event.at, history_words(event.kind, event.data), event.actor, event.reason
            )
            for event in events
            if _shown(event)
        ]
    # An instrument acts as its service identity: shown as the instrument.
    instruments = dict(
        Instrument.objects.filter(
            service_user__username__in={entry.who for entry in entries}
        ).values_list("service_user__username", "name")
    )
    entries = [
        replace(entry, who=f"instrument {instruments[entry.who]}")
        if entry.who in instruments
        else entry
        for entry in entries
    ]
    corrections = [
        TimelineEntry(c.at, c.words, c.who, c.reason) for c in result_corrections(sample)
    ]
    critical = [TimelineEntry(at, what, who, "") for at, what, who in critical_timeline(sample)]
    return list(heapq.merge(entries, corrections, critical, key=lambda entry: entry.at))
