"""``manage.py workflows list|show|retry|cancel|sweep|replay``: the engine for operators."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import executor, operations
from workflows.api import RunNotFound, cancel, get_run
from workflows.models import Run, RunStatus


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
        retry.add_argument("--actor", default="operator")
        stop = sub.add_parser("cancel", help="cancel a run (it may clean up)")
        stop.add_argument("run")
        stop.add_argument("--reason", required=True)
        stop.add_argument("--actor", default="operator")
        sub.add_parser("sweep", help="re-dispatch what lost messages left behind, now")
        check = sub.add_parser("replay", help="which unfinished runs would block on this code")
        check.add_argument("--limit", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except (RunNotFound, operations.OperationRefused, ValueError) as error:
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
        self.stdout.write(operations.retry_now(options["run"], actor=options["actor"]))

    def do_cancel(self, options: dict[str, Any]) -> None:
        if cancel(options["run"], actor=options["actor"], reason=options["reason"]):
            self.stdout.write("cancellation recorded; the run sees it at its current await")
        else:
            raise CommandError("the run has already finished")

    def do_sweep(self, options: dict[str, Any]) -> None:
        report = executor.sweep()
        self.stdout.write(
            f"timers fired: {report.timers_fired}, leases expired: {report.leases_expired}, "
            f"steps re-sent: {report.steps_redispatched}, runs re-advanced: {report.runs_advanced}"
        )

    def do_replay(self, options: dict[str, Any]) -> None:
        checked, problems = operations.replay_check(options["limit"])
        blocked = sum(len(runs) for runs in problems.values())
        self.stdout.write(f"checked {checked} unfinished run(s): {blocked} would block")
        for (workflow, version), runs in sorted(problems.items()):
            self.stdout.write(f"\n{workflow} v{version}: {len(runs)} run(s)")
            for problem in runs[:20]:
                self.stdout.write(f"  {problem.run_id}: {problem.reason}")
            if len(runs) > 20:
                self.stdout.write(f"  ... and {len(runs) - 20} more")
        if blocked:
            raise CommandError(f"{blocked} run(s) would block on the code now loaded")
