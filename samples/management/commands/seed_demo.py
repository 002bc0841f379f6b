"""``manage.py seed_demo``: demo users, assays, an instrument, samples and control lots with
their history; safe to run again."""

from typing import Any

from django.core.management.base import BaseCommand

from samples.demo import data as demo
from samples.demo.quality import demo_quality_seed
from samples.demo.samples import demo_samples_seed
from samples.demo.seed import demo_seed


class Command(BaseCommand):
    help = (
        "Load demo users (one per role), assays, an instrument, samples in every state and "
        "control lots with a month of history. "
        "Existing data is kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo_seed()
        samples = demo_samples_seed()
        if samples:
            report.created.append(f"{samples} demo samples in every state of the lifecycle")
        controls = demo_quality_seed()
        if controls:
            report.created.append(f"4 control lots with {controls} control results")
        if report.created:
            self.stdout.write("Created: " + ", ".join(report.created) + ".")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write("Demo logins (username / password):")
        for user in demo.DEMO_USERS:
            self.stdout.write(f"  {user.role.label:<19} {user.username} / {user.password}")
        if report.instrument_token:
            self.stdout.write(
                f"API token for instrument {demo.DEMO_INSTRUMENT_NAME} (shown only now, "
                f"stored hashed):\n  {report.instrument_token}"
            )
