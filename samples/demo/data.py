"""The demo data loaded by ``manage.py seed_demo``: plain data, no database access here.

The passwords are public (README.md): demo data is for a local trial, never for a real lab.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from samples.roles import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    role: Role


@dataclass(frozen=True)
class DemoAssay:
    code: str
    name: str
    units: str
    reference_low: Decimal
    reference_high: Decimal
    critical_low: Decimal | None
    critical_high: Decimal | None
    batch_capacity: int
    batch_close_after: timedelta
    stability_hours: int
    max_retests: int


DEMO_USERS = [
    DemoUser("technician", "demo-technician", "Tess", "Okafor", Role.TECHNICIAN),
    DemoUser("reviewer", "demo-reviewer", "Ravi", "Lindqvist", Role.REVIEWER),
    DemoUser("compliance", "demo-compliance", "Carmen", "Achterberg", Role.COMPLIANCE),
    DemoUser("admin", "demo-admin", "Alex", "Moreau", Role.ADMIN),
]


def demo_user(role: Role) -> DemoUser:
    return next(user for user in DEMO_USERS if user.role is role)


DEMO_ASSAYS = [
    DemoAssay("GLU", "Glucose", "mmol/L", Decimal("3.9"), Decimal("5.6"),
              Decimal("2.5"), Decimal("25.0"), 40, timedelta(hours=1), 24, 2),
    DemoAssay("K", "Potassium", "mmol/L", Decimal("3.5"), Decimal("5.1"),
              Decimal("2.8"), Decimal("6.2"), 40, timedelta(hours=1), 6, 2),
    DemoAssay("CREA", "Creatinine", "µmol/L", Decimal("62"), Decimal("106"),
              None, Decimal("800"), 80, timedelta(hours=2), 72, 1),
    DemoAssay("HBA1C", "Haemoglobin A1c", "mmol/mol", Decimal("20"), Decimal("42"),
              None, None, 96, timedelta(hours=4), 168, 1),
]  # fmt: skip

DEMO_INSTRUMENT_NAME = "Cobas-1"
DEMO_INSTRUMENT_MODEL = "cobas c 311"
DEMO_INSTRUMENT_SERIAL = "DEMO-0001"
DEMO_INSTRUMENT_ASSAYS = ["GLU", "K", "CREA"]
