"""Demo samples in every state of the lifecycle, so a newcomer sees a living lab: registered,
rejected, expired, received, awaiting a batch, in a running batch, resulted (waiting for review),
back for a retest, and reported. Made through the same services as the bench, with the
workflows run in this process (``workflows.ops.run_inline``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from samples.demo import data as demo
from samples.models import Assay, Batch, BatchStatus, CriticalNotification, Instrument, Sample
from samples.roles import Role
from samples.services.batches import batch_start_run
from samples.services.critical import critical_call_record
from samples.services.recording import result_record
from samples.services.results import sample_verify
from samples.services.specimens import (
    sample_receive,
    sample_register,
    sample_reject,
    sample_request_batch,
)
from workflows.ops import run_inline

PREFIX = "D-"


def demo_samples_seed() -> int:
    """Create the demo samples once; returns how many were created (0 if they exist)."""
    if Sample.objects.filter(barcode__startswith=PREFIX).exists():
        return 0
    users = get_user_model().objects
    technician = users.get(username=demo.demo_user(Role.TECHNICIAN).username)
    signer = demo.demo_user(Role.REVIEWER)
    reviewer = users.get(username=signer.username)
    capacity = Assay.objects.get(code="K").batch_capacity
    instrument = Instrument.objects.get(name=demo.DEMO_INSTRUMENT_NAME)
    now = timezone.now()
    numbers = iter(range(1, 1000))

    def register(assay: str, hours_ago: float, priority: str = "routine") -> str:
        barcode = f"{PREFIX}{next(numbers):06d}"
        sample_register(
            user=technician,
            barcode=barcode,
            specimen_type="serum",
            subject_ref=f"DEMO-{barcode[2:]}",
            collected_at=now - timedelta(hours=hours_ago),
            assays=[assay],
            priority=priority,
        )
        return barcode

    with run_inline() as engine:
        for hours in (0.5, 1, 2):
            register("GLU", hours)  # registered, waiting at reception
        rejected = register("GLU", 1)
        sample_reject(user=technician, barcode=rejected, reason="haemolysed beyond use")
        register("GLU", 30)  # collected too long ago: expires at once
        received = [register("GLU", 1, "urgent") for _ in range(2)]
        in_open_batch = [register("GLU", 1) for _ in range(3)]
        # Enough potassium samples to fill a batch, which then closes at once.
        potassium = [register("K", 1, "stat" if n == 0 else "routine") for n in range(capacity)]
        engine.run_until_idle()
        for barcode in received + in_open_batch + potassium:
            sample_receive(user=technician, barcode=barcode, condition="acceptable")
        engine.run_until_idle()
        for barcode in in_open_batch + potassium:
            sample_request_batch(user=technician, barcode=barcode)
        engine.run_until_idle()
        batch = Batch.objects.get(assay__code="K", status=BatchStatus.CLOSED)
        batch_start_run(user=technician, batch_id=batch.pk, instrument_id=instrument.pk)
        engine.run_until_idle()
        values = ["4.1", "3.9", "5.4", "3.2", "4.6", "6.6", "4.0", "4.4"]  # H, L and a critical
        for n, barcode in enumerate(potassium[:30]):
            flags = ["QC_FAIL"] if n in (7, 19) else []
            result_record(
                barcode=barcode,
                assay_code="K",
                value=Decimal(values[n % len(values)]),
                flags=flags,
                instrument=instrument,
            )
        engine.run_until_idle()
        # The critical potassium among those released is called to its ward first (release
        # waits for the call); the later ones stay open, for the critical values page.
        for notification in CriticalNotification.objects.filter(
            sample__barcode__in=potassium[:12], closed_at=None
        ).select_related("result"):
            critical_call_record(
                user=technician,
                barcode=notification.sample.barcode,
                called_name="Dr Ruiz",
                called_where="ward 5",
                read_back=notification.value,
                outcome="confirmed",
            )
        engine.run_until_idle()
        for barcode in potassium[:12]:
            if Sample.objects.get(barcode=barcode).state == "resulted":
                sample_verify(user=reviewer, barcode=barcode, password=signer.password)
        engine.run_until_idle()
    return next(numbers) - 1
