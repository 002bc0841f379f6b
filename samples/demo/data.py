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


@dataclass(frozen=True)
class DemoControlLot:
    assay: str
    level: str
    code: str
    mean: Decimal
    sd: Decimal
    # The history's results as deviations from the mean in SDs, oldest first (one a day).
    history: tuple[float, ...]


DEMO_CONTROL_MATERIAL = ("Lyphochek Assayed Chemistry Control", "Bio-Rad", "24051")
_STEADY = (0.2, -0.5, 0.8, -1.1, 0.3, 0.0, 1.2, -0.7, 0.4, -0.2, 0.9, -1.4, 0.6, -0.3, 0.1)
DEMO_CONTROL_LOTS = [
    # Steady, one 1-2s warning, then a 2-2s pair that rejects a run.
    DemoControlLot("GLU", "1", "QC-GLU-1", Decimal("5.5"), Decimal("0.15"),
                   (*_STEADY, 2.3, 0.4, -0.6, 2.2, 2.4, 0.5, -0.1, 0.7, -0.9, 0.2)),
    DemoControlLot("GLU", "2", "QC-GLU-2", Decimal("16.5"), Decimal("0.45"),
                   (*_STEADY[::-1], 0.5, -2.1, 0.3, 1.0, -0.4, 0.6, -0.8, 0.2, 0.9, -0.5)),
    # A shift: four beyond +1 SD (4-1s), then an R-4s.
    DemoControlLot("K", "1", "QC-K-1", Decimal("4.0"), Decimal("0.08"),
                   (*_STEADY, 1.2, 1.5, 1.1, 1.3, 0.2, -0.4, 2.5, -2.2, 0.3, 0.1)),
    DemoControlLot("K", "2", "QC-K-2", Decimal("6.5"), Decimal("0.12"),
                   (*_STEADY[::-1], 0.4, -0.2, 0.1, -0.6, 0.8, -0.3, 0.5, -0.1, 0.2, 0.0)),
]  # fmt: skip
