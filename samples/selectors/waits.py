"""What a workflow run waits for, in the words a lab uses: "waiting for receipt at reception
(window ends 02 Dec 2026 20:42 UTC)", "waiting for the GLU batch to close", "sending results to
Ward LIS". Reads only.

The engine keeps what a run waits for as data (``workflows.api.Wait``: a step running, a signal
awaited, a timer; a name, a deadline, a step's arguments); the one table of phrases is here,
by signal and step name. A signal named ``<name>:<detail>`` (``batched:GLU``,
``critical:42``) is looked up by ``<name>``, its detail filling the phrase. A name not in the
table still reads as words ("waiting for courier pickup" for a signal ``courier_pickup``), so
a workflow added without a phrase never shows the engine's text.

Every page and the API word waits through ``waits_words`` (a list: one query for the runs,
one more per kind of thing named, whatever the number of rows) or ``run_words`` (one run).
The engine's own text (``waiting_for``) stays for the runs console's supervisors and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db.models import OuterRef, Subquery

from samples.lifecycle.names import BATCH_RUN
from samples.models import Batch, OutboundMessage, Result, RunLink, SampleState
from samples.values.times import utc_text
from workflows.api import Wait
from workflows.ops import runs_waits


class Waiting(Protocol):
    """A run as the engine gives it (``RunInfo``, ``RunRow``, ``RunWaits``)."""

    @property
    def id(self) -> str: ...
    @property
    def workflow(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def waits(self) -> tuple[Wait, ...]: ...


@dataclass
class Known:
    """What the phrases name that the waits hold only as ids, read for a whole list at once:
    each result's assay, each result message's destination, each batch run's assay."""

    result_assays: dict[int, str] = field(default_factory=dict)
    destinations: dict[int, str] = field(default_factory=dict)
    run_assays: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Said:
    """What a phrase may use: the signal's detail (after ``:``), a step's arguments, the run's
    assay if it is a batch run, and the ids read into ``known``."""

    detail: str
    args: tuple[Any, ...]
    assay: str
    known: Known


def _the(assay: str, thing: str) -> str:
    return f"the {assay} {thing}" if assay else f"the {thing}"


def _result_assay(said: Said) -> str:
    result_id = _whole(said.detail)
    return said.known.result_assays.get(result_id, "") if result_id is not None else ""


def _the_critical(said: Said) -> str:
    assay = _result_assay(said)
    return f"the critical {assay}" if assay else "the critical"


def _control_assay(said: Said) -> str:
    # A batch run's own assay first: its signals are control:<lot code> ("QC-GLU-1", not an
    # assay). Else control:<assay> names it; control:<level or id> names none.
    if said.assay:
        return said.assay
    detail = said.detail
    return detail if detail and not detail.isdigit() and detail.isupper() else ""


def _argument(said: Said, position: int) -> Any:
    return said.args[position] if len(said.args) > position else None


def _destination(said: Said) -> str:
    message_id = _argument(said, 0)
    name = said.known.destinations.get(message_id) if isinstance(message_id, int) else None
    return f"sending results to {name}" if name else "sending results out"


def _marking(said: Said) -> str:
    state = _argument(said, 1)
    label = SampleState(state).label.lower() if state in SampleState.values else ""
    return f"recording the sample as {label}" if label else "recording the sample's new state"


def _part(said: Said) -> str:
    number = _argument(said, 1)
    return f"doing part {number + 1} of the job" if isinstance(number, int) else "doing the job"


Phrase = Callable[[Said], str]

# The signals a lab's workflows wait for, by name (the part before any ":"). A name two
# workflows use differently has its own phrase in WORKFLOW_SIGNALS, found by a word of the
# workflow's name. DEADLINES: how a wait's deadline is introduced ("by" if not named here).
SIGNALS: dict[str, Phrase] = {
    "reception": lambda s: "waiting for receipt at reception",
    "batch": lambda s: "waiting to be added to a batch",
    "batched": lambda s: f"waiting for {_the(s.detail, 'batch')} to close",
    "result": lambda s: f"waiting for {_the(s.detail, 'result')}",
    "review": lambda s: "waiting for verification by a reviewer",
    "full": lambda s: f"waiting for {_the(s.assay, 'batch')} to fill or reach its closing time",
    "run_started": lambda s: f"waiting for {_the(s.assay, 'run')} to start on an instrument",
    "member_done": lambda s: f"waiting for {_the(s.assay, 'run')}'s results",
    "critical": lambda s: f"waiting for {_the_critical(s)} value to be notified",
    "call": lambda s: "waiting for a call to be recorded",
    "control": lambda s: f"waiting for {_the(_control_assay(s), 'run')}'s control results",
    "controls": lambda s: f"waiting for {_the(s.assay, 'run')}'s control results",
    "qc_decision": lambda s: (
        "waiting for a supervisor's decision on the rejected "
        + (f"{s.assay} run" if s.assay else "run")
    ),
}
WORKFLOW_SIGNALS: dict[tuple[str, str], Phrase] = {
    ("correction", "review"): lambda s: "waiting for review of the correction",
}
DEADLINES = {"call": "SLA ends", "reception": "window ends", "batch": "window ends",
             "batched": "window ends", "result": "window ends",
             "control": "next reminder to the supervisors"}  # fmt: skip

STEPS: dict[str, Phrase] = {
    "samples.lifecycle_plan": lambda s: "setting up the sample's lifecycle",
    "samples.mark": _marking,
    "samples.record_receipt": lambda s: "recording the receipt",
    "samples.record_rejection": lambda s: "recording the rejection",
    "samples.join_batch": lambda s: f"adding the sample to {_the(_text(_argument(s, 1)), 'batch')}",
    "samples.evaluate_result": lambda s: "checking the result",
    "samples.open_retest": lambda s: "opening a retest",
    "samples.review_critical": lambda s: "flagging the critical result for the reviewer",
    "samples.render_report": lambda s: "writing the report",
    "samples.render_corrected_report": lambda s: "writing the corrected report",
    "samples.outbox_prepare": lambda s: "preparing the result messages",
    "samples.outbox_send": _destination,
    "samples.outbox_park": lambda s: "setting a result message aside for a person",
    "samples.batch_plan": lambda s: f"setting up {_the(s.assay, 'batch')}",
    "samples.batch_close": lambda s: f"closing {_the(s.assay, 'batch')}",
    "samples.batch_complete": lambda s: f"completing {_the(s.assay, 'batch')}",
    "samples.qc_controls": lambda s: "reading the run's control positions",
    "samples.qc_conclude": lambda s: "evaluating the run's quality control",
    "samples.qc_remind": lambda s: "reminding the supervisors to decide on the rejected run",
    "samples.qc_control_remind": lambda s: "reminding the supervisors of missing control results",
    "samples.critical_open": lambda s: "opening the critical value's notification",
    "samples.critical_plan": lambda s: "setting up the critical value's notification",
    "samples.critical_escalate": lambda s: "telling the supervisors no call was recorded in time",
    "samples.critical_close": lambda s: "closing the critical value's notification",
    "jobs.plan": lambda s: "planning the job",
    "jobs.part": _part,
    "jobs.finish": lambda s: "finishing the job",
    "jobs.fail": lambda s: "recording why the job failed",
}
# Steps a later version of a workflow renamed say what their first version's did.
STEPS |= {
    "samples.qc_control_plan": STEPS["samples.qc_controls"],
    "samples.notification_plan": STEPS["samples.critical_plan"],
    "samples.notification_escalate": STEPS["samples.critical_escalate"],
    "samples.notification_close": STEPS["samples.critical_close"],
}

BLOCKED = "stopped until a person looks at it (see its workflow run)"


def waits_words(runs: Iterable[Waiting]) -> dict[str, str]:
    """Each run's waits in words, by run id ("" for a run that waits for nothing: finished).
    Reads what the phrases name for all of them at once: a few queries, whatever their
    number."""
    runs = list(runs)
    known = _known(runs)
    return {run.id: _words(run, known) for run in runs}


def run_words(run: Waiting) -> str:
    return waits_words([run])[run.id]


def waiting_by_run(run_ids: Iterable[str]) -> dict[str, str]:
    """What each of these runs waits for, in words, by run id: one query for the runs, and
    one more per kind of thing their waits name (results, result messages, batches)."""
    return waits_words(runs_waits(str(run_id) for run_id in run_ids).values())


def wait_words(
    wait: Wait, *, workflow: str = "", assay: str = "", known: Known | None = None
) -> str:
    """One wait in words, with its deadline if it has one."""
    name, _, detail = wait.name.partition(":")
    said = Said(detail, wait.args, assay, known or Known())
    if wait.kind == "step":
        phrase = STEPS.get(wait.name)
        return phrase(said) if phrase else f"{_spoken(wait.name.rpartition('.')[2])} in progress"
    if wait.kind == "timer":
        return f"waiting until {_when(wait.until)}" if wait.until else "waiting for a timer"
    phrase = next(
        (
            p
            for (flow, signal), p in WORKFLOW_SIGNALS.items()
            if signal == name and flow in workflow
        ),
        SIGNALS.get(name),
    )
    text = phrase(said) if phrase else f"waiting for {_spoken(wait.name)}"
    if wait.until is not None:
        text += f" ({DEADLINES.get(name, 'by')} {_when(wait.until)})"
    return text


def _words(run: Waiting, known: Known) -> str:
    if run.status == "blocked":
        return BLOCKED
    assay = known.run_assays.get(run.id, "")
    return " and ".join(
        wait_words(wait, workflow=run.workflow, assay=assay, known=known) for wait in run.waits
    )


def _known(runs: list[Waiting]) -> Known:
    known = Known()
    result_ids = {
        number
        for run in runs
        for wait in run.waits
        if wait.kind == "signal" and wait.name.startswith("critical:")
        if (number := _whole(wait.name.partition(":")[2])) is not None
    }
    if result_ids:
        known.result_assays = dict(
            Result.objects.filter(pk__in=result_ids).values_list("pk", "assay__code")
        )
    message_ids = {
        wait.args[0]
        for run in runs
        for wait in run.waits
        if wait.kind == "step" and wait.name == "samples.outbox_send"
        if wait.args and isinstance(wait.args[0], int)
    }
    if message_ids:
        known.destinations = dict(
            OutboundMessage.objects.filter(pk__in=message_ids).values_list(
                "pk", "destination__name"
            )
        )
    batch_runs = [run.id for run in runs if run.workflow == BATCH_RUN and run.waits]
    if batch_runs:
        assay = Batch.objects.filter(pk=OuterRef("batch_id")).values("assay__code")[:1]
        known.run_assays = {
            str(run_id): code or ""
            for run_id, code in RunLink.objects.filter(run_id__in=batch_runs)
            .annotate(code=Subquery(assay))
            .values_list("run_id", "code")
        }
    return known


def _whole(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


def _spoken(name: str) -> str:
    return name.replace("_", " ").replace(":", " ").replace(".", " ").strip() or "an event"


def _when(moment: datetime | None) -> str:
    return utc_text(moment) if moment is not None else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
