"""A qualitative assay for the tests of text results: HIV takes Negative (normal), Positive and
Indeterminate (both abnormal)."""

from __future__ import annotations

from samples.models import Assay, ResultKind
from tests.samples.lab import make_assay

ANSWERS = [
    {"text": "Negative", "abnormal": False},
    {"text": "Positive", "abnormal": True},
    {"text": "Indeterminate", "abnormal": True},
]


def make_qualitative(code: str = "HIV", answers=None, **fields) -> Assay:
    values = {
        "name": "HIV 1/2 antibodies", "units": "", "kind": ResultKind.QUALITATIVE,
        "answers": answers or ANSWERS, "reference_low": None, "reference_high": None,
        "critical_low": None, "critical_high": None,
    }  # fmt: skip
    values.update(fields)
    return make_assay(code, **values)


def running(lab, barcode: str, assay: str = "HIV") -> None:
    """The sample registered for ``assay``, received and waiting in a running batch of it (on
    the lab's instrument, which runs the assay)."""
    lab.instrument.assays.add(Assay.objects.get(code=assay))
    lab.register(barcode, assay)
    lab.receive(barcode)
    lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run(assay)
