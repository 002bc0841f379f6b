"""The demo lab's configuration: role groups, accounts with public passwords (README.md),
assays, instruments and a token for the first instrument. Run again, it adds only what is
missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from samples.demo import data as demo
from samples.models import Assay, Instrument
from samples.roles import Role, ensure_role_groups
from samples.services.setup import instrument_register


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    instrument_token: str | None = None


@transaction.atomic
def demo_seed() -> SeedReport:
    """Load the demo users, assays and instrument; what already exists is left untouched."""
    report = SeedReport()
    ensure_role_groups()
    User = get_user_model()
    for person in demo.DEMO_USERS:
        if User.objects.filter(username=person.username).exists():
            continue
        user = User(
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            is_staff=person.role is Role.ADMIN,  # the admin site needs is_staff
        )
        user.set_password(person.password)
        user.save()
        user.groups.add(Group.objects.get(name=person.role.value))
        report.created.append(f"user {person.username} ({person.role.label})")
    for spec in demo.DEMO_ASSAYS:
        _, created = Assay.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "units": spec.units,
                "reference_low": spec.reference_low,
                "reference_high": spec.reference_high,
                "critical_low": spec.critical_low,
                "critical_high": spec.critical_high,
                "batch_capacity": spec.batch_capacity,
                "batch_close_after": spec.batch_close_after,
                "stability_hours": spec.stability_hours,
                "max_retests": spec.max_retests,
            },
        )
        if created:
            report.created.append(f"assay {spec.code}")
    if not Instrument.objects.filter(name=demo.DEMO_INSTRUMENT_NAME).exists():
        _, report.instrument_token = instrument_register(
            name=demo.DEMO_INSTRUMENT_NAME,
            model=demo.DEMO_INSTRUMENT_MODEL,
            serial=demo.DEMO_INSTRUMENT_SERIAL,
            assay_codes=demo.DEMO_INSTRUMENT_ASSAYS,
        )
        report.created.append(f"instrument {demo.DEMO_INSTRUMENT_NAME}")
    return report
