"""``manage.py audit verify``: check every hash chain of the audit trail (each sample's and
batch's workflow history, and the events of every other change) and name the first broken
event of each broken chain; then check the database against the latest anchor (its
signature, then every chain head it holds). The outcome is kept (``ChainCheck``), as the
nightly check's is. Exits with an error when something is broken.

``manage.py audit anchor``: write a new anchor of every chain head (Celery beat does it every
``AUDIT_ANCHOR_MINUTES``)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from samples.documents.anchors import AnchorKeyMissing, latest_anchor
from samples.services.anchors import anchor_make, audit_check


class Command(BaseCommand):
    help = "Check the audit trail's hash chains and its latest anchor, or write a new anchor."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("verify", help="check every chain and the latest anchor")
        actions.add_parser("anchor", help="write a signed anchor of every chain head now")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "anchor":
            self._anchor()
            return
        check = audit_check(trigger="command")
        latest = latest_anchor(Path(settings.AUDIT_ANCHOR_DIR))
        if latest is None:
            self.stdout.write("No anchor yet to check against: `manage.py audit anchor` makes one.")
        else:
            self.stdout.write(f"Checked against the anchor {latest}.")
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

    def _anchor(self) -> None:
        try:
            path = anchor_make()
        except AnchorKeyMissing as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(f"Anchored every chain head in {path}.")
