"""A small lab for lifecycle tests: one assay, one instrument, the cast, and the bench actions
as one-liners on top of the real services, with the workflows run in-process."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from rest_framework.test import APIClient

from samples import services
from samples.models import Assay, Batch, BatchStatus, Sample
from samples.services.tokens import api_token_create
from tests.cast import PASSWORD


def make_assay(code: str = "GLU", **fields) -> Assay:
    values = {
        "name": "Glucose", "units": "mmol/L", "reference_low": Decimal("3.9"),
        "reference_high": Decimal("5.6"), "critical_low": Decimal("2.5"),
        "critical_high": Decimal("25"), "batch_capacity": 3,
        "batch_close_after": timedelta(hours=2), "stability_hours": 24, "max_retests": 1,
    }  # fmt: skip
    values.update(fields)
    return Assay.objects.create(code=code, **values)


class Lab:
    def __init__(self, env, technician, reviewer, instrument) -> None:
        self.env, self.technician, self.reviewer = env, technician, reviewer
        self.instrument = instrument

    def register(
        self, barcode: str, *assays: str, collected_hours_ago: float = 1, subject_ref: str = ""
    ) -> Sample:
        sample = services.sample_register(
            user=self.technician,
            barcode=barcode,
            specimen_type="serum",
            subject_ref=subject_ref or f"SUBJ-{barcode}",
            collected_at=timezone.now() - timedelta(hours=collected_hours_ago),
            assays=list(assays or ["GLU"]),
        )
        self.env.run_until_idle()
        return sample

    def receive(self, barcode: str, condition: str = "acceptable") -> services.Done:
        done = services.sample_receive(user=self.technician, barcode=barcode, condition=condition)
        self.env.run_until_idle()
        return done

    def to_batch(self, barcode: str) -> services.Done:
        done = services.sample_request_batch(user=self.technician, barcode=barcode)
        self.env.run_until_idle()
        return done

    def close_batches(self) -> None:
        self.env.advance_time(timedelta(hours=2, minutes=1))

    def start_run(self, assay: str = "GLU", user=None) -> Batch:
        batch = Batch.objects.get(assay__code=assay, status=BatchStatus.CLOSED)
        services.batch_start_run(user=user or self.technician, batch_id=batch.pk)
        self.env.run_until_idle()
        return batch

    def post(self, barcode: str, value: str, assay: str = "GLU", flags=()):
        result = services.result_record(
            barcode=barcode, assay_code=assay, value=value, flags=list(flags),
            instrument=self.instrument,
        )  # fmt: skip
        self.env.run_until_idle()
        return result

    def analyse(self, barcode: str, value: str, flags=(), assay: str = "GLU") -> None:
        """From received (or retest pending) to a posted result, alone in its batch."""
        self.to_batch(barcode)
        self.close_batches()
        self.start_run(assay)
        self.post(barcode, value, assay, flags=flags)

    def analyse_together(self, values: dict[str, str], assay: str = "GLU") -> None:
        """From received to posted results, all in one batch (which must hold them all)."""
        for barcode in values:
            self.to_batch(barcode)
        self.close_batches()
        self.start_run(assay)
        for barcode, value in values.items():
            self.post(barcode, value, assay)

    def verify(self, barcode: str, user=None, password: str = PASSWORD):
        signature = services.sample_verify(
            user=user or self.reviewer, barcode=barcode, password=password
        )
        self.env.run_until_idle()
        return signature

    def state(self, barcode: str) -> str:
        return Sample.objects.get(barcode=barcode).state


def api_for(user) -> APIClient:
    """An API client holding a new token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(owner=user)}")
    return client
