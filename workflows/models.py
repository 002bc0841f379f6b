"""Engine tables. ``workflows.store`` (through ``workflows.sql`` on the per-step path) is the
only module that writes them.

- ``Run``: one workflow execution, pinned to the version it started on.
- ``HistoryEvent``: the append-only history of a run, one row per event, in ``seq`` order. It is
  the audit trail: JSON columns, server times, actor and reason.
- ``StepTask``: the outbox and lease of each scheduled step (attempts survive a crash).
- ``Timer``: a durable timer (``sleep`` or a wait's timeout), fired by the sweep.
- ``Heartbeat``: when a periodic job of the engine (the sweep) last ran, for the metrics.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"
    SUPERSEDED = "superseded"  # restarted from a step: a new run goes on in its place


FINISHED = [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.SUPERSEDED]


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    # NULL, not "", means "no key": the unique constraint applies only to real keys.
    key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    args = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    waiting_for = models.CharField(max_length=500, blank=True)
    # What ``waiting_for`` says, one entry per await, for applications to word it their way
    # (``workflows.api.Wait``): kind ("step", "signal", "timer"), name, until (ISO 8601 or
    # None) and a step's args. Empty once the run has finished.
    waits = models.JSONField(default=list, db_default=[], blank=True)
    blocked_reason = models.TextField(blank=True)
    # Set when an event arrives that the workflow has not seen; cleared by an advance.
    needs_advance = models.BooleanField(default=True)
    last_seq = models.PositiveIntegerField(default=0)  # seq of the newest event, under row lock
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The run this one restarted from a step (reusing its recorded results before that step).
    restarted_from = models.UUIDField(null=True, blank=True)
    # Advances lost in a row with their worker process (the workflow's code killed it); at
    # WORKFLOWS_MAX_LOST_ADVANCES the run is parked, blocked, for a person (workflows.lost).
    lost_advances = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "key"], condition=Q(key__isnull=False), name="run_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            # The runs list: the most recently changed first, a page at a time.
            models.Index(fields=["-updated_at", "-id"], name="run_recent_first"),
            models.Index(
                fields=["updated_at"], condition=Q(needs_advance=True), name="run_needs_advance"
            ),
            # The workflows and versions that have runs, read by skipping along it.
            models.Index(fields=["workflow", "version"], name="run_workflow_version"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.version} {self.id}"


class HistoryEvent(models.Model):
    # Indexed by the (run, seq) constraint, which leads with run: no index of its own.
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    cmd = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    actor = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField()
    # The run's hash chain, set by the database on insert (migration 0003): the previous
    # event's hash, and SHA-256 over this event's content with it. Rows are append-only.
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="history_unique_seq"),
            # A step's result is recorded once, however many times the step ran.
            models.UniqueConstraint(
                fields=["run", "cmd"],
                condition=Q(kind="step_completed"),
                name="history_one_result_per_step",
            ),
            models.UniqueConstraint(
                fields=["run", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="history_unique_dedupe_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.kind}"


class StepStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ABANDONED = "abandoned"  # the run finished or was cancelled first


class StepTask(models.Model):
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="steps", db_index=False)
    cmd = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    queue = models.CharField(max_length=100, default="default")
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "cmd"], name="step_unique_cmd")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="step_pending_due",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="running"),
                name="step_running_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.run_id}:{self.cmd}, {self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.cmd}"


class Timer(models.Model):
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="timers", db_index=False)
    cmd = models.PositiveIntegerField()
    fire_at = models.DateTimeField()
    fired = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "cmd"], name="timer_unique_cmd")]
        indexes = [
            models.Index(fields=["fire_at"], condition=Q(fired=False), name="timer_due"),
        ]

    def __str__(self) -> str:
        return f"timer {self.run_id}:{self.cmd} at {self.fire_at:%Y-%m-%dT%H:%MZ}"


class InterventionKind(models.TextChoices):
    RETRY = "retry"  # failed or waiting steps run again now
    RESUME = "resume"  # a blocked run is advanced again against the code now loaded
    CANCEL = "cancel"  # needs a second person's approval
    RESTART = "restart"  # from a chosen step, as a new run; needs a second person's approval


class InterventionStatus(models.TextChoices):
    PENDING = "pending"  # waits for a second person
    DONE = "done"  # carried out
    REFUSED = "refused"  # the second person said no, or the run had ended meanwhile


class Intervention(models.Model):
    """A person's action on a run, with a reason; the run's history records it too (with
    actor and reason). Kinds that need four eyes wait here for a second person's approval."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=16, choices=InterventionKind.choices)
    reason = models.TextField()
    step = models.PositiveIntegerField(null=True, blank=True)  # a restart's step (its cmd)
    new_run = models.UUIDField(null=True, blank=True)  # the run a restart made
    requested_by = models.CharField(max_length=200)
    # The asker's account id (its primary key, as text so that any user model fits): names
    # change, ids do not, so four eyes compare this. NULL for rows recorded before it was kept,
    # or when code acts without an account; those compare names.
    requested_by_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=InterventionStatus.choices)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    outcome = models.TextField(blank=True)  # what it did, in words

    class Meta:
        indexes = [
            models.Index(
                fields=["requested_at"], condition=Q(status="pending"), name="intervention_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.run_id} ({self.status})"


SWEEP_HEARTBEAT = "sweep"  # the Heartbeat row the sweep updates


class Heartbeat(models.Model):
    """When a periodic job of the engine last ran (one row per job, ``"sweep"``): the operator's
    metrics tell from it whether beat and the workers still sweep."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%dT%H:%M:%SZ}"
