"""``manage.py audit verify``: check every hash chain of the audit trail (each sample's and
batch's workflow history, and the events of every other change) and name the first broken
event of each broken chain. The outcome is kept (``ChainCheck``), as the nightly check's is.
Exits with an error when one is broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from samples.services.audit import audit_check


class Command(BaseCommand):
    help = "Check the audit trail's hash chains and name the first broken event of each."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("verify", help="check every chain; exit 1 when one is broken")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        check = audit_check(trigger="command")
        if check.intact:
            self.stdout.write(
                f"Checked {check.events} events in {check.chains} chains: every chain is intact."
            )
            return
        for finding in check.findings:
            self.stdout.write(f"BROKEN {finding['where']}: {finding['problem']}")
        raise CommandError(
            f"{len(check.findings)} of {check.chains} chains are broken "
            f"({check.events} events checked)."
        )
