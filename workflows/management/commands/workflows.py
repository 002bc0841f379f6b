"""``manage.py workflows``: the engine for operators.

``list``, ``show``, ``sweep`` and ``replay`` inspect. ``retry``, ``cancel``, ``approve`` and
``refuse`` are people acting on runs, under the console's rules (``workflows.interventions``):
each names the person by an active account (``--actor USERNAME``) and gives a reason, and a
cancellation is only asked for here; it is carried out when a second person (another account)
approves it, here or in the console. ``interventions`` lists what waits for that approval."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import executor, operations
from workflows.api import RunNotFound, get_run
from workflows.errors import InterventionRefused, OperationRefused
from workflows.interventions import (
    InterventionInfo,
    decide,
    intervene,
    interventions_pending,
)
from workflows.models import Run, RunStatus


def _account(username: str) -> tuple[str, Any]:
    """The active account named ``username``: the name the history shows and the id four eyes
    compare. Looked up before anything is recorded, so an unknown name changes nothing."""
    users = get_user_model()
    user = users._default_manager.filter(**{users.USERNAME_FIELD: username}).first()
    if user is None or not getattr(user, "is_active", True):
        raise CommandError(f"There is no active account named {username!r}; nothing changed.")
    return user.get_username(), user.pk


class Command(BaseCommand):
    help = "Inspect and operate workflow runs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="runs, newest first")
        listing.add_argument("--status", choices=[s.value for s in RunStatus])
        listing.add_argument("--workflow")
        listing.add_argument("--limit", type=int, default=50)
        show = sub.add_parser("show", help="one run and its history")
        show.add_argument("run")
        retry = sub.add_parser("retry", help="retry a run's waiting steps now")
        retry.add_argument("run")
        stop = sub.add_parser(
            "cancel", help="ask for a run's cancellation (a second person approves)"
        )
        stop.add_argument("run")
        approve = sub.add_parser("approve", help="approve a waiting intervention: it takes effect")
        approve.add_argument("intervention", type=int)
        approve.add_argument("--reason", default="")
        refuse = sub.add_parser("refuse", help="refuse a waiting intervention, saying why")
        refuse.add_argument("intervention", type=int)
        for acting in (retry, stop, refuse):
            acting.add_argument("--reason", required=True)
        for acting in (retry, stop, approve, refuse):
            acting.add_argument("--actor", required=True, help="your account's username")
        waiting = sub.add_parser("interventions", help="interventions waiting for approval")
        waiting.add_argument("run", nargs="?")
        sub.add_parser("sweep", help="re-dispatch what lost messages left behind, now")
        check = sub.add_parser("replay", help="which unfinished runs would block on this code")
        check.add_argument(
            "--all",
            action="store_true",
            help="every run, finished ones too, each checked to reach its recorded decisions",
        )
        check.add_argument("--limit", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except (
            RunNotFound,
            OperationRefused,
            InterventionRefused,
            ValueError,
        ) as error:
            raise CommandError(str(error)) from None

    def do_list(self, options: dict[str, Any]) -> None:
        runs = Run.objects.order_by("-created_at")
        if options["status"]:
            runs = runs.filter(status=options["status"])
        if options["workflow"]:
            runs = runs.filter(workflow=options["workflow"])
        for run in runs[: options["limit"]]:
            waiting = run.blocked_reason if run.status == RunStatus.BLOCKED else run.waiting_for
            self.stdout.write(
                f"{run.pk}  {run.workflow} v{run.version}  {run.status:<9}  "
                f"{run.key or '-'}  {waiting}"
            )

    def do_show(self, options: dict[str, Any]) -> None:
        run = get_run(options["run"])
        self.stdout.write(f"run {run.id}: {run.workflow} v{run.version}, {run.status}")
        if run.waiting_for:
            self.stdout.write(f"waiting for: {run.waiting_for}")
        if run.result is not None:
            self.stdout.write(f"result: {json.dumps(run.result)}")
        if run.error:
            self.stdout.write(f"error: {run.error['type']}: {run.error['message']}")
        for e in run.history:
            where = f" #{e.cmd}" if e.cmd else ""
            attempt = f" attempt {e.attempt}" if e.attempt else ""
            who = f" by {e.actor}" if e.actor else ""
            why = f" ({e.reason})" if e.reason else ""
            self.stdout.write(
                f"{e.seq:>5} {e.at:%Y-%m-%d %H:%M:%S} {e.kind}{where}{attempt}{who}{why} "
                f"{json.dumps(e.data, sort_keys=True)}"
            )

    def do_retry(self, options: dict[str, Any]) -> None:
        name, account = _account(options["actor"])
        done = intervene(
            options["run"], "retry", actor=name, actor_id=account, reason=options["reason"]
        )
        self.stdout.write(done.outcome)

    def do_cancel(self, options: dict[str, Any]) -> None:
        name, account = _account(options["actor"])
        asked = intervene(
            options["run"], "cancel", actor=name, actor_id=account, reason=options["reason"]
        )
        self.stdout.write(
            f"cancellation asked for as intervention {asked.id}; nothing happens until a second "
            f"person approves it (workflows approve {asked.id} --actor USERNAME, or the run's "
            "page)"
        )

    def do_approve(self, options: dict[str, Any]) -> None:
        done = self._decide(options, approve=True)
        self.stdout.write(done.outcome if done.status != "done" else f"approved: {done.outcome}")

    def do_refuse(self, options: dict[str, Any]) -> None:
        done = self._decide(options, approve=False)
        self.stdout.write(f"refused: the {done.kind} of run {done.run_id} is not carried out")

    def _decide(self, options: dict[str, Any], *, approve: bool) -> InterventionInfo:
        name, account = _account(options["actor"])
        return decide(
            options["intervention"],
            actor=name,
            actor_id=account,
            approve=approve,
            reason=options["reason"],
        )

    def do_interventions(self, options: dict[str, Any]) -> None:
        run_id = options["run"]
        if run_id is not None:
            try:
                run_id = str(uuid.UUID(run_id))
            except ValueError:
                raise CommandError(f"no workflow run {run_id!r}") from None
        waiting = interventions_pending(run_id)
        if not waiting:
            self.stdout.write("no intervention waits for a second person")
        for i in waiting:
            step = f" from step {i.step}" if i.step is not None else ""
            self.stdout.write(
                f"{i.id}  {i.kind}{step}  run {i.run_id}  asked by {i.requested_by} "
                f"at {i.requested_at:%Y-%m-%d %H:%M:%S}: {i.reason}"
            )

    def do_sweep(self, options: dict[str, Any]) -> None:
        report = executor.sweep()
        self.stdout.write(
            f"timers fired: {report.timers_fired}, leases expired: {report.leases_expired}, "
            f"steps re-sent: {report.steps_redispatched}, "
            f"runs re-advanced: {report.runs_advanced + report.runs_nudged}, "
            f"blocked runs retried: {report.blocked_retried}"
        )

    def do_replay(self, options: dict[str, Any]) -> None:
        every = options["all"]
        checked, problems = operations.replay_check(options["limit"], finished=every, strict=every)
        found = [p for runs in problems.values() for p in runs]
        blocked = sum(p.blocks for p in found)
        what = "run(s)" if every else "unfinished run(s)"
        summary = f"checked {checked} {what}: {blocked} would block"
        if every:
            summary += f", {len(found) - blocked} replay to other decisions"
        self.stdout.write(summary)
        for (workflow, version), runs in sorted(problems.items()):
            self.stdout.write(f"\n{workflow} v{version}: {len(runs)} run(s)")
            for problem in runs[:20]:
                verdict = "" if problem.blocks else " (replays to other decisions)"
                self.stdout.write(f"  {problem.run_id}{verdict}: {problem.reason}")
            if len(runs) > 20:
                self.stdout.write(f"  ... and {len(runs) - 20} more")
        if blocked:
            raise CommandError(f"{blocked} run(s) would block on the code now loaded")
        if found:
            raise CommandError(f"{len(found)} run(s) replay to other decisions on this code")
