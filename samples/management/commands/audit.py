"""``manage.py audit verify``: check the hash chain of every workflow history (each sample's
and each batch's audit trail) and name the first broken event of each broken chain. Exits
with an error when one is broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from samples.models import Batch, Sample
from workflows.api import verify_history


class Command(BaseCommand):
    help = "Check the audit trail's hash chains and name the first broken event of each."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("verify", help="check every chain; exit 1 when one is broken")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        report = verify_history()
        if report.intact:
            self.stdout.write(
                f"Checked {report.events} events in {report.runs} runs: every chain is intact."
            )
            return
        owners = _owners([b.run_id for b in report.broken])
        for broken in report.broken:
            where = owners.get(broken.run_id, f"run {broken.run_id}")
            event = f"event {broken.seq}" + (f" (row {broken.event_id})" if broken.event_id else "")
            self.stdout.write(f"BROKEN {where}: {event}: {broken.problem}")
        raise CommandError(
            f"{len(report.broken)} of {report.runs} chains are broken "
            f"({report.events} events checked)."
        )


def _owners(run_ids: list[str]) -> dict[str, str]:
    """What each run is the history of: a sample's barcode or a batch."""
    samples = Sample.objects.filter(run_id__in=run_ids).values_list("barcode", "run_id")
    batches = Batch.objects.filter(run_id__in=run_ids).values_list("pk", "run_id")
    owners = {str(run): f"sample {barcode}" for barcode, run in samples}
    return owners | {str(run): f"batch {pk}" for pk, run in batches}
