"""The pure core of the engine: drive a workflow coroutine against its recorded history.

No Django and no Celery here. ``replay()`` re-runs the workflow function from the top. Every
``await`` on a context operation yields a command with a position (1, 2, 3, ...); the history
events that concern it carry that position as ``cmd``. A recorded command returns its recorded
outcome; a command past the end of the history is new, and the outcome lists what to record.
Every live decision (which signal a wait consumed, that a wait timed out, that a patch applies,
where a cancellation was delivered) is recorded too, so a replay never has to decide twice.

The coroutine is driven by hand with ``send``/``throw``: no event loop, no threads.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.errors import Cancelled, SignalTimeout, StepFailed

# --- commands: what an ``await`` on the context yields -----------------------------------------


class Command:
    def __await__(self) -> Generator[Command, Any, Any]:
        return (yield self)


@dataclass(eq=False)
class StepCommand(Command):
    name: str
    args: list[Any]


@dataclass(eq=False)
class SleepCommand(Command):
    seconds: float | None = None
    until: datetime | None = None


@dataclass(eq=False)
class WaitSignalCommand(Command):
    name: str
    timeout: float | None = None
    until: datetime | None = None

    @property
    def has_deadline(self) -> bool:
        return self.timeout is not None or self.until is not None


@dataclass(eq=False)
class GatherCommand(Command):
    children: list[Command]


# --- history as the core sees it ----------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    created_at: datetime
    cmd: int | None = None
    attempt: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewEvent:
    """An event the caller must append, in order, after the existing history."""

    kind: str
    cmd: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleStep:
    cmd: int
    name: str
    args: list[Any]


@dataclass(frozen=True)
class StartTimer:
    cmd: int
    fire_at: datetime


@dataclass
class Outcome:
    status: str  # running | waiting | completed | failed | cancelled | blocked
    new_events: list[NewEvent] = field(default_factory=list)
    steps: list[ScheduleStep] = field(default_factory=list)
    timers: list[StartTimer] = field(default_factory=list)
    result: Any = None
    error: dict[str, str] | None = None
    waiting_for: str = ""
    # The same, structured, for applications to say in their own words: one dict per await
    # (``kind`` "step", "signal" or "timer"; ``name``; ``until``, ISO 8601 or None; a step's
    # ``args``).
    waits: list[dict[str, Any]] = field(default_factory=list)
    blocked_reason: str = ""
    # Positions whose work ends with this outcome: steps to abandon and timers to stop (a
    # cancelled await, a wait answered before its deadline).
    ended: list[int] = field(default_factory=list)
    # Values the code derives again on replay that differ from what the history recorded (a
    # deadline): not identities, so the run goes on with the recorded ones, but a sign that
    # the code reads something other than the history (see ``operations.replay_check``).
    drift: list[str] = field(default_factory=list)


RESOLVING_KINDS = {
    "step_completed",
    "signal_consumed",
    "wait_timed_out",
    "timer_fired",
}


_SCALARS = (str, int, float, bool, type(None))


def to_json(value: Any, what: str) -> Any:
    """Normalise through JSON (tuples become lists, a copy is detached from the caller's
    objects) so replays compare like with like. A list of plain scalars, the common case for
    step arguments, is already what JSON gives back: it is copied without the round trip."""
    if type(value) is list and all(type(item) in _SCALARS for item in value):
        return list(value)
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be JSON-serialisable: {error}") from None


def _seconds(duration: float | timedelta) -> float:
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


def _aware(moment: datetime, what: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TypeError(f"{what} must be a datetime with a time zone")
    return moment


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


# --- the context handed to workflow code --------------------------------------------------------


class Context:
    """What workflow code may use. Everything here is deterministic under replay."""

    def __init__(self, replayer: _Replayer) -> None:
        self._replayer = replayer

    @property
    def run_id(self) -> str:
        return self._replayer.run_id

    def step(self, fn: Callable[..., Any] | str, *args: Any) -> Awaitable[Any]:
        name = fn if isinstance(fn, str) else getattr(fn, "step_name", None)
        if not name:
            raise TypeError(f"{fn!r} is not a step: decorate it with @step")
        return StepCommand(name, to_json(list(args), f"arguments of step {name!r}"))

    def sleep(
        self, duration: float | timedelta | None = None, *, until: datetime | None = None
    ) -> Awaitable[None]:
        """A durable timer: for ``duration``, or until the moment ``until`` (aware)."""
        if (duration is None) == (until is None):
            raise ValueError("sleep takes a duration or until=, not both")
        if until is not None:
            return SleepCommand(until=_aware(until, "until"))
        seconds = _seconds(duration)  # type: ignore[arg-type]  # not None: checked above
        if seconds < 0:
            raise ValueError("sleep needs a duration of zero or more")
        return SleepCommand(seconds)

    def wait_signal(
        self,
        name: str,
        timeout: float | timedelta | None = None,
        *,
        until: datetime | None = None,
    ) -> Awaitable[Any]:
        """Wait for signal ``name``; with ``timeout`` (from now) or ``until`` (a moment), raise
        ``SignalTimeout`` if it has not arrived by then."""
        if timeout is not None and until is not None:
            raise ValueError("wait_signal takes timeout= or until=, not both")
        if until is not None:
            return WaitSignalCommand(name, until=_aware(until, "until"))
        return WaitSignalCommand(name, None if timeout is None else _seconds(timeout))

    def gather(self, *awaitables: Awaitable[Any]) -> Awaitable[list[Any]]:
        children = list(awaitables)
        for child in children:
            if not isinstance(child, StepCommand | SleepCommand | WaitSignalCommand):
                raise TypeError("ctx.gather takes ctx.step, ctx.sleep and ctx.wait_signal only")
        return GatherCommand(children)  # type: ignore[arg-type]

    def patched(self, change_id: str) -> bool:
        return self._replayer.patched(change_id)

    def now(self) -> datetime:
        """The time of the newest history event that resolved an await (a step's completion,
        a signal's arrival, a timer's firing, a cancellation's request), read from the history:
        the same value live and on every replay. Not the wall clock."""
        return self._replayer.current_time

    def uuid4(self) -> uuid.UUID:
        self._replayer.uuid_counter += 1
        seed = f"{self._replayer.run_id}:uuid:{self._replayer.uuid_counter}".encode()
        return uuid.UUID(bytes=hashlib.sha256(seed).digest()[:16], version=4)


# --- the driver -------------------------------------------------------------------------------

_PENDING = object()


@dataclass(frozen=True)
class _Value:
    value: Any


@dataclass(frozen=True)
class _Throw:
    error: BaseException


class _Blocked(Exception):
    pass


class _Replayer:
    def __init__(self, run_id: str, events: Sequence[Event]) -> None:
        self.run_id = run_id
        if not events or events[0].kind != "run_started":
            raise ValueError("a history starts with a run_started event")
        self.by_cmd: dict[int, list[Event]] = {}
        self.signals: list[Event] = []
        self.signal_at: dict[int, Event] = {}
        self.consumed: set[int] = set()
        self.cancel: Event | None = None
        self.cancel_delivered_at: int | None = None
        self.recorded_commands = 0
        self.last_seq = 0
        self.current_time = events[0].created_at
        self.ingest(events)
        self.next_cmd = 1
        self.uuid_counter = 0
        self.patches: dict[str, bool] = {}
        self.blocked_reason = ""
        self.outcome = Outcome(status="running")
        self.coro: Any = None
        self.suspended: tuple[Command, int] | None = None
        self.pending_cmds: list[int] = []
        self.pending_commands: list[Command] = []
        # When each gather began (by its first position): its awaits' deadlines run from then,
        # however many of them have been resolved since.
        self.gathers_began: dict[int, datetime] = {}
        self.deadline_base: datetime | None = None

    def ingest(self, events: Sequence[Event]) -> None:
        """Take in history events (in ``seq`` order); those already seen are skipped."""
        for event in events:
            if event.seq <= self.last_seq:
                continue
            self.last_seq = event.seq
            if event.cmd is not None:
                self.by_cmd.setdefault(event.cmd, []).append(event)
                if event.kind in _OPENING_KINDS:
                    self.recorded_commands = max(self.recorded_commands, event.cmd)
            if event.kind == "signal_received":
                self.signals.append(event)
                self.signal_at[event.seq] = event
            elif event.kind == "signal_consumed":
                self.consumed.add(event.data["signal_seq"])
            elif event.kind == "cancel_requested" and self.cancel is None:
                self.cancel = event
            elif event.kind == "cancel_delivered":
                self.cancel_delivered_at = event.cmd

    # -- helpers --
    def _record(self, kind: str, cmd: int | None, **data: Any) -> None:
        self.outcome.new_events.append(NewEvent(kind, cmd, data))

    def _observe(self, event: Event) -> None:
        """The workflow's clock moves to the time of the event that resolved an await: always
        the event that arrived (the step's completion, the signal, the timer's firing, the
        cancellation's request), never the event that records the decision to take it, so the
        live run and every replay read the same time."""
        if event.created_at > self.current_time:
            self.current_time = event.created_at

    def _block(self, message: str) -> _Blocked:
        self.blocked_reason = message
        return _Blocked(message)

    def _mismatch(self, cmd: int, recorded: Event, asked: str) -> _Blocked:
        return self._block(
            f"position {cmd}: the history recorded {_describe_event(recorded)}, "
            f"but the code now asks for {asked}"
        )

    # -- cancellation --
    def _cancel_pending(self) -> bool:
        return self.cancel is not None and self.cancel_delivered_at is None

    def _cancel_before(self, event: Event) -> bool:
        """An undelivered cancellation recorded before ``event`` (which would resolve the await
        being decided) takes that await instead: the workflow was waiting there when it came."""
        return (
            self.cancel is not None
            and self.cancel_delivered_at is None
            and (self.cancel.seq < event.seq)
        )

    def _deliver_cancel(self, cmd: int) -> _Throw:
        """Decide, live, that the cancellation lands at the await at ``cmd``; that await's
        step is abandoned and its timer stopped in the same write."""
        self.cancel_delivered_at = cmd
        self.delivered_now = True
        self._record("cancel_delivered", cmd)
        self.outcome.ended.append(cmd)
        return self._cancelled()

    def _cancelled(self) -> _Throw:
        assert self.cancel is not None
        self._observe(self.cancel)
        return _Throw(Cancelled(self.cancel.data.get("reason", "")))

    delivered_now = False

    # -- patched() runs inside the coroutine, synchronously --
    def patched(self, change_id: str) -> bool:
        """Decided once per change id and remembered for the rest of the run (true or false),
        so later checks of the same id take the same path as the first."""
        if change_id in self.patches:
            return self.patches[change_id]
        cmd = self.next_cmd
        recorded = self.by_cmd.get(cmd)
        if recorded is None:  # past the end of the history: new code path from here on
            self.next_cmd += 1
            self._record("patch_marker", cmd, change_id=change_id)
            chosen = True
        elif recorded[0].kind == "patch_marker" and recorded[0].data.get("change_id") == change_id:
            self.next_cmd += 1
            chosen = True
        else:
            chosen = False  # this run passed here before the change: keep the old path
        self.patches[change_id] = chosen
        return chosen

    # -- commands --
    def resolve(self, command: Command) -> Any:
        if isinstance(command, GatherCommand):
            return self._resolve_gather(command)
        cmd = self.next_cmd
        self.next_cmd += 1
        return self._resolve_one(cmd, command)

    def _resolve_one(self, cmd: int, command: Command) -> Any:
        if isinstance(command, StepCommand):
            return self._resolve_step(cmd, command)
        if isinstance(command, SleepCommand):
            return self._resolve_sleep(cmd, command)
        assert isinstance(command, WaitSignalCommand)
        return self._resolve_wait(cmd, command)

    def _resolve_gather(self, command: GatherCommand) -> Any:
        """The gather's awaits take one position each, whatever happens to them. A cancellation
        that lands on one of them cancels the gather: the awaits after it are neither opened
        nor decided, and the work of all of them ends."""
        cmds = list(range(self.next_cmd, self.next_cmd + len(command.children)))
        self.next_cmd += len(cmds)
        results = []
        began = self.gathers_began.setdefault(cmds[0], self.current_time)
        for cmd, child in zip(cmds, command.children, strict=True):
            self.deadline_base = began
            try:
                result = self._resolve_one(cmd, child)
            finally:
                self.deadline_base = None
            if isinstance(result, _Throw) and isinstance(result.error, Cancelled):
                if self.delivered_now:
                    self.outcome.ended.extend(c for c in cmds if c not in self.outcome.ended)
                return result
            results.append(result)
        if any(r is _PENDING for r in results):
            self.pending_cmds = cmds
            self.pending_commands = command.children
            return _PENDING
        for result in results:
            if isinstance(result, _Throw):
                return result
        return _Value([r.value for r in results])

    def _opened(self, cmd: int) -> list[Event] | None:
        """The events recorded at ``cmd`` if an await was opened there (not if the
        cancellation was delivered there before it began)."""
        recorded = self.by_cmd.get(cmd)
        if recorded is None or recorded[0].kind == "cancel_delivered":
            return None
        return recorded

    def _resolve_step(self, cmd: int, command: StepCommand) -> Any:
        recorded = self._opened(cmd)
        if recorded is not None:
            first = recorded[0]
            if first.kind != "step_scheduled" or (first.data["step"], first.data["args"]) != (
                command.name,
                command.args,
            ):
                raise self._mismatch(cmd, first, f"step {command.name!r} with {command.args!r}")
        if self.cancel_delivered_at == cmd:
            return self._cancelled()
        if recorded is None:
            if self._cancel_pending():  # cancelled before this await began: nothing to schedule
                return self._deliver_cancel(cmd)
            self._record("step_scheduled", cmd, step=command.name, args=command.args)
            self.outcome.steps.append(ScheduleStep(cmd, command.name, command.args))
            return _PENDING
        for event in recorded:
            if event.kind == "step_completed":
                if self._cancel_before(event):
                    return self._deliver_cancel(cmd)
                self._observe(event)
                return _Value(event.data.get("result"))
            if event.kind == "step_failed" and event.data.get("final"):
                if self._cancel_before(event):
                    return self._deliver_cancel(cmd)
                self._observe(event)
                return _Throw(
                    StepFailed(
                        command.name,
                        event.data.get("error_type", "Error"),
                        event.data.get("message", ""),
                        event.attempt or 1,
                    )
                )
        return self._deliver_cancel(cmd) if self._cancel_pending() else _PENDING

    def _deadline(self, command: SleepCommand | WaitSignalCommand) -> datetime:
        """When a timer of ``command`` fires: from the time its await began (for an await of
        a gather, when the gather began, even once an await beside it has been resolved)."""
        began = self.deadline_base or self.current_time
        if command.until is not None:
            return max(command.until, began)
        seconds = command.timeout if isinstance(command, WaitSignalCommand) else command.seconds
        return began + timedelta(seconds=seconds or 0)

    def _check_deadline(self, cmd: int, recorded: Event, deadline: datetime | None) -> None:
        """A deadline is derived, not an identity: the recorded one stays in force, and a
        difference is noted as drift for the replay check."""
        was = recorded.data.get("fire_at")
        now = deadline.isoformat() if deadline is not None else None
        if was is not None and now is not None and datetime.fromisoformat(was) == deadline:
            return
        if was != now:
            self.outcome.drift.append(
                f"position {cmd}: the history recorded {_describe_event(recorded)} ending at "
                f"{was or 'no deadline'}, but the code now works out {now or 'no deadline'}"
            )

    def _resolve_sleep(self, cmd: int, command: SleepCommand) -> Any:
        recorded = self._opened(cmd)
        if recorded is not None:
            first = recorded[0]
            if first.kind != "timer_started" or first.data.get("signal") is not None:
                raise self._mismatch(cmd, first, _describe_sleep(command))
            self._check_deadline(cmd, first, self._deadline(command))
        if self.cancel_delivered_at == cmd:
            return self._cancelled()
        if recorded is None:
            if self._cancel_pending():
                return self._deliver_cancel(cmd)
            fire_at = self._deadline(command)
            seconds = (fire_at - self.current_time).total_seconds()
            if command.seconds is not None:
                seconds = command.seconds
            self._record("timer_started", cmd, seconds=seconds, fire_at=fire_at.isoformat())
            self.outcome.timers.append(StartTimer(cmd, fire_at))
            return _PENDING
        fired = next((e for e in recorded if e.kind == "timer_fired"), None)
        if fired is not None:
            if self._cancel_before(fired):
                return self._deliver_cancel(cmd)
            self._observe(fired)
            return _Value(None)
        return self._deliver_cancel(cmd) if self._cancel_pending() else _PENDING

    def _resolve_wait(self, cmd: int, command: WaitSignalCommand) -> Any:
        recorded = self._opened(cmd)
        if recorded is not None:
            first = recorded[0]
            if first.kind != "wait_started" or first.data["signal"] != command.name:
                raise self._mismatch(cmd, first, _describe_wait(command))
            deadline = self._deadline(command) if command.has_deadline else None
            self._check_deadline(cmd, first, deadline)
        if self.cancel_delivered_at == cmd:
            return self._cancelled()
        if recorded is None:
            if self._cancel_pending():
                return self._deliver_cancel(cmd)
            data: dict[str, Any] = {"signal": command.name, "timeout": command.timeout}
            if command.has_deadline:
                fire_at = self._deadline(command)
                if command.until is not None:
                    data["timeout"] = (fire_at - self.current_time).total_seconds()
                data["fire_at"] = fire_at.isoformat()
                self.outcome.timers.append(StartTimer(cmd, fire_at))
            self._record("wait_started", cmd, **data)
            recorded = []
        for event in recorded:
            if event.kind == "signal_consumed":
                self._observe(self.signal_at.get(event.data["signal_seq"], event))
                return _Value(event.data.get("payload"))
            if event.kind == "wait_timed_out":
                self._observe(next((e for e in recorded if e.kind == "timer_fired"), event))
                return _Throw(SignalTimeout(command.name))
        # Unresolved: decide now, by history order, between a waiting signal, a fired timer
        # and a cancellation.
        fired = next((e for e in recorded if e.kind == "timer_fired"), None)
        for signal in self.signals:
            if signal.seq in self.consumed or signal.data.get("name") != command.name:
                continue
            if fired is not None and fired.seq < signal.seq:
                break
            if self._cancel_before(signal):
                return self._deliver_cancel(cmd)
            self.consumed.add(signal.seq)
            self._observe(signal)
            payload = signal.data.get("payload")
            self._record("signal_consumed", cmd, signal_seq=signal.seq, payload=payload)
            self._end_timer(cmd, started=recorded)
            return _Value(payload)
        if fired is not None:
            if self._cancel_before(fired):
                return self._deliver_cancel(cmd)
            self._observe(fired)
            self._record("wait_timed_out", cmd, signal=command.name)
            return _Throw(SignalTimeout(command.name))
        return self._deliver_cancel(cmd) if self._cancel_pending() else _PENDING

    def _end_timer(self, cmd: int, *, started: list[Event]) -> None:
        """A wait answered before its deadline: its timer is not started (opened in this
        outcome) or is stopped (opened earlier), so it never fires into the history."""
        timers = self.outcome.timers
        if any(t.cmd == cmd for t in timers):
            timers[:] = [t for t in timers if t.cmd != cmd]
        elif started and "fire_at" in started[0].data:
            self.outcome.ended.append(cmd)

    # -- the loop --
    def run(self, fn: Callable[..., Any], args: Sequence[Any]) -> Outcome:
        """Start the workflow and drive it until it waits, finishes or blocks."""
        coro = fn(Context(self), *args)
        if not hasattr(coro, "send"):
            return self._blocked_outcome("the workflow function is not an async def function")
        self.coro = coro
        return self._drive(None)

    def resume(self) -> Outcome:
        """Drive a suspended workflow on, after ``ingest`` took in what happened since."""
        assert self.suspended is not None, "only a waiting workflow can be resumed"
        command, self.next_cmd = self.suspended
        self.outcome = Outcome(status="running")
        self.delivered_now = False
        return self._drive(command)

    def close(self) -> None:
        if self.coro is not None:
            self.coro.close()
            self.coro = None
        self.suspended = None

    def _drive(self, command: Command | None) -> Outcome:
        """Resolve ``command`` (the await the coroutine is suspended at, None before its first
        line) and go on until an await cannot be resolved from the history, or the end."""
        coro = self.coro
        send: Any = None
        throw: BaseException | None = None
        try:
            while True:
                if command is not None:
                    at = self.pending_cmds = [self.next_cmd]
                    self.pending_commands = [command]
                    resolution = self.resolve(command)
                    if resolution is _PENDING:
                        # A pending await with a cancellation waiting would have taken it.
                        assert not self._cancel_pending()
                        self.suspended = (command, at[0])
                        return self._waiting()
                    if isinstance(resolution, _Throw):
                        throw = resolution.error
                    else:
                        send = resolution.value
                try:
                    yielded = coro.throw(throw) if throw is not None else coro.send(send)
                except StopIteration as stop:
                    if self.blocked_reason:
                        raise _Blocked(self.blocked_reason) from None
                    self.close()
                    return self._finish(stop.value)
                except _Blocked:
                    raise
                except Cancelled as error:
                    if self.blocked_reason:
                        raise _Blocked(self.blocked_reason) from None
                    self.close()
                    if self.cancel_delivered_at is not None:
                        return self._cancelled_run(error)
                    return self._failed(error)
                except Exception as error:
                    if self.blocked_reason:
                        raise _Blocked(self.blocked_reason) from None
                    self.close()
                    return self._failed(error)
                if self.blocked_reason:  # the code swallowed a mismatch found by patched()
                    raise _Blocked(self.blocked_reason)
                send, throw = None, None
                if not isinstance(yielded, Command):
                    raise self._block(
                        f"the workflow awaited {yielded!r}, which is not a workflow operation: "
                        "use ctx.step, ctx.sleep, ctx.wait_signal or ctx.gather"
                    )
                command = yielded
        except _Blocked as blocked:
            self.close()
            return self._blocked_outcome(str(blocked))

    def _check_no_extra_history(self) -> None:
        if self.recorded_commands >= self.next_cmd:
            extra = self.by_cmd[self.next_cmd][0]
            raise self._block(
                f"position {self.next_cmd}: the history recorded {_describe_event(extra)}, "
                "but the code now finishes before reaching it"
            )

    def _finish(self, value: Any) -> Outcome:
        self._check_no_extra_history()
        try:
            result = to_json(value, "the workflow's result")
        except TypeError as error:
            return self._failed(error)
        self._record("run_completed", None, result=result)
        self.outcome.status = "completed"
        self.outcome.result = result
        return self.outcome

    def _failed(self, error: BaseException) -> Outcome:
        self._check_no_extra_history()
        self.outcome.error = {"type": type(error).__name__, "message": str(error)}
        self._record("run_failed", None, error_type=type(error).__name__, message=str(error))
        self.outcome.status = "failed"
        return self.outcome

    def _cancelled_run(self, error: Cancelled) -> Outcome:
        self._check_no_extra_history()
        self._record("run_cancelled", None, reason=error.reason)
        self.outcome.status = "cancelled"
        self.outcome.error = {"type": "Cancelled", "message": str(error)}
        return self.outcome

    def _waiting(self) -> Outcome:
        descriptions = []
        waits: list[dict[str, Any]] = []
        running = False
        for cmd, command in zip(self.pending_cmds, self.pending_commands, strict=True):
            if self._is_resolved(cmd):
                continue
            if isinstance(command, StepCommand):
                running = True
                descriptions.append(f"step {command.name!r}")
                waits.append({"kind": "step", "name": command.name, "until": None,
                              "args": command.args})  # fmt: skip
            elif isinstance(command, SleepCommand):
                fire_at = self._fire_at(cmd)
                descriptions.append(f"timer until {format_time(fire_at)}")
                waits.append({"kind": "timer", "name": "", "until": fire_at.isoformat()})
            elif isinstance(command, WaitSignalCommand):
                text = f"signal {command.name!r}"
                until = None
                if self._has_timer(cmd):
                    until = self._fire_at(cmd)
                    text += f" until {format_time(until)}"
                descriptions.append(text)
                waits.append({"kind": "signal", "name": command.name,
                              "until": until and until.isoformat()})  # fmt: skip
        self.outcome.status = "running" if running else "waiting"
        self.outcome.waiting_for = " and ".join(descriptions)
        self.outcome.waits = waits
        return self.outcome

    def _is_resolved(self, cmd: int) -> bool:
        kinds = {e.kind for e in self.by_cmd.get(cmd, [])}
        kinds |= {e.kind for e in self.outcome.new_events if e.cmd == cmd}
        if "step_failed" in kinds:
            final = [e for e in self.by_cmd.get(cmd, []) if e.kind == "step_failed"]
            if any(e.data.get("final") for e in final):
                return True
        return bool(kinds & RESOLVING_KINDS)

    def _events_at(self, cmd: int) -> list[Event | NewEvent]:
        return [*self.by_cmd.get(cmd, []), *(e for e in self.outcome.new_events if e.cmd == cmd)]

    def _has_timer(self, cmd: int) -> bool:
        return any("fire_at" in e.data for e in self._events_at(cmd))

    def _fire_at(self, cmd: int) -> datetime:
        for event in self._events_at(cmd):
            if "fire_at" in event.data:
                return datetime.fromisoformat(event.data["fire_at"])
        raise LookupError(cmd)  # pragma: no cover - every timer records fire_at

    def _blocked_outcome(self, message: str) -> Outcome:
        # Nothing is recorded: the run waits, untouched, for code that matches its history.
        return Outcome(status="blocked", blocked_reason=message)


_OPENING_KINDS = {"step_scheduled", "timer_started", "wait_started", "patch_marker"}


def _describe_wait(command: WaitSignalCommand) -> str:
    return f"a wait for signal {command.name!r}"


def _describe_sleep(command: SleepCommand) -> str:
    if command.until is not None:
        return f"a sleep until {command.until.isoformat()}"
    return f"a sleep of {command.seconds:g}s"


def _describe_event(event: Event) -> str:
    data = event.data
    if event.kind == "step_scheduled":
        return f"step {data['step']!r} with {data['args']!r}"
    if event.kind == "timer_started":
        return f"a sleep of {data['seconds']:g}s"
    if event.kind == "wait_started":
        return _describe_wait(WaitSignalCommand(data["signal"]))
    if event.kind == "patch_marker":
        return f"patch {data['change_id']!r}"
    return event.kind


def replay(
    fn: Callable[..., Any], args: Sequence[Any], *, run_id: str, events: Sequence[Event]
) -> Outcome:
    """Re-run ``fn`` against ``events`` and say what to record next and where the run stands."""
    replayer = _Replayer(run_id, events)
    try:
        return replayer.run(fn, args)
    finally:
        replayer.close()


class Session:
    """A workflow kept suspended at the await it waits on, to be fed what happens next.

    Feeding a session the events appended since gives the same outcome as replaying the whole
    history from the top, without re-running the code before the current await. The owner
    must feed every event (its own recorded ones included, once stored), in order.
    """

    def __init__(
        self, fn: Callable[..., Any], args: Sequence[Any], *, run_id: str, events: Sequence[Event]
    ) -> None:
        self.fn = fn
        self._replayer = _Replayer(run_id, events)
        self.outcome = self._replayer.run(fn, args)

    @property
    def alive(self) -> bool:
        """True while the workflow waits at an await (it has neither finished nor blocked)."""
        return self._replayer.suspended is not None

    def record(self, events: Sequence[Event]) -> None:
        """Take in stored events without driving the workflow (its own recorded ones)."""
        self._replayer.ingest(events)

    def feed(self, events: Sequence[Event]) -> Outcome:
        """Take in new events and drive the workflow on; returns what to record next."""
        self._replayer.ingest(events)
        self.outcome = self._replayer.resume()
        return self.outcome

    def close(self) -> None:
        self._replayer.close()
