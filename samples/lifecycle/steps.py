"""The lifecycle's steps: small, idempotent, JSON in and out, each calling one service.

A step may run more than once (a worker lost mid-step); each is written so that a second run
changes nothing more (conditional updates, ``get_or_create``, the step's idempotency key).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from samples import services
from samples.models import Batch, Sample
from samples.services import critical
from workflows.api import RetryPolicy, current_step, step


@step("samples.lifecycle_plan")
def lifecycle_plan(barcode: str) -> dict[str, Any]:
    """What the lifecycle needs to know once: the stability deadline and the ordered assays."""
    sample = Sample.objects.get(barcode=barcode)
    assays = sorted(sample.assays.all(), key=lambda a: a.code)
    hours = min(a.stability_hours for a in assays)
    deadline = sample.collected_at.timestamp() + hours * 3600
    return {
        "deadline": deadline,
        "assays": [{"code": a.code, "max_retests": a.max_retests} for a in assays],
    }


@step("samples.mark")
def mark(barcode: str, state: str) -> None:
    services.sample_mark(barcode=barcode, state=state)


@step("samples.record_receipt")
def record_receipt(barcode: str, reception: dict[str, Any]) -> None:
    services.sample_record_receipt(
        barcode=barcode,
        condition=reception["condition"],
        user_id=reception["by"],
        at=reception["at"],
    )


@step("samples.record_rejection")
def record_rejection(barcode: str, reception: dict[str, Any]) -> None:
    services.sample_record_rejection(
        barcode=barcode, reason=reception["reason"], user_id=reception["by"], at=reception["at"]
    )


@step("samples.join_batch")
def join_batch(barcode: str, assay_code: str) -> dict[str, int]:
    info = current_step()
    assert info is not None
    return services.batch_join(
        barcode=barcode, assay_code=assay_code, join_key=info.idempotency_key
    )


@step("samples.evaluate_result")
def evaluate_result(result_id: int) -> dict[str, Any]:
    return services.result_evaluate(result_id=result_id)


@step("samples.open_retest")
def open_retest(result_id: int, reason: str, user_id: int | None) -> int:
    return services.retest_open(result_id=result_id, reason=reason, user_id=user_id)


@step("samples.review_critical")
def review_critical(barcode: str, result_id: int) -> str:
    """Version 2: a critical result is flagged for the reviewer before release."""
    return services.result_flag_critical(barcode=barcode, result_id=result_id)


@step("samples.critical_open")
def critical_open(barcode: str, result_id: int, at: float) -> dict[str, Any]:
    """Version 4: a critical result opens its notification, kept by its own workflow."""
    return critical.critical_open(barcode=barcode, result_id=result_id, at=at)


@step("samples.render_report")
def render_report(barcode: str, signature_id: int) -> int:
    return services.report_render(barcode=barcode, signature_id=signature_id)


@step("samples.render_corrected_report")
def render_corrected_report(barcode: str, signature_id: int) -> dict[str, Any]:
    """A re-release after a correction: the corrected report, replacing the newest."""
    return services.report_render_corrected(barcode=barcode, signature_id=signature_id)


# --- results out (samples.services.outbox) ---------------------------------------------------


@step("samples.outbox_prepare")
def outbox_prepare(barcode: str, kind: str) -> list[int]:
    """The messages for every active destination, their control ids fixed before any is
    sent; the step's idempotency key makes a second run of it find the same ones."""
    info = current_step()
    assert info is not None
    return services.outbox_prepare(barcode=barcode, kind=kind, prepared_by=info.idempotency_key)


@step(
    "samples.outbox_send",
    retry=RetryPolicy(
        max_attempts=settings.OUTBOX_ATTEMPTS,
        initial_interval=settings.OUTBOX_RETRY_SECONDS,
        backoff=2,
        max_interval=3600,
    ),
    # Connecting and waiting for the ACK each take at most the ACK timeout.
    timeout=2 * settings.OUTBOX_ACK_TIMEOUT_SECONDS + 10,
)
def outbox_send(message_id: int) -> str:
    return services.outbox_attempt(message_id=message_id)


@step("samples.outbox_park")
def outbox_park(message_id: int, error: str) -> str:
    return services.outbox_park(message_id=message_id, error=error)


# --- critical value notification (samples.lifecycle.critical) -------------------------------


@step("samples.critical_plan")
def critical_plan(result_id: int) -> dict[str, Any]:
    return critical.critical_plan(result_id=result_id)


@step("samples.critical_escalate")
def critical_escalate(result_id: int, round: int, at: float) -> str:
    return critical.critical_escalate(result_id=result_id, round=round, at=at)


@step("samples.critical_close")
def critical_close(result_id: int, call_id: int, late: bool) -> str:
    return critical.critical_close(result_id=result_id, call_id=call_id, late=late)


# Version 2: the steps name the notification (a result may have several).


@step("samples.notification_plan")
def notification_plan(notification_id: int) -> dict[str, Any]:
    return critical.notification_plan(notification_id=notification_id)


@step("samples.notification_escalate")
def notification_escalate(notification_id: int, round: int, at: float) -> str:
    return critical.notification_escalate(notification_id=notification_id, round=round, at=at)


@step("samples.notification_close")
def notification_close(notification_id: int, call_id: int, late: bool) -> str:
    return critical.notification_close(notification_id=notification_id, call_id=call_id, late=late)


# --- batch run -----------------------------------------------------------------------------------


@step("samples.batch_plan")
def batch_plan(batch_id: int) -> dict[str, Any]:
    batch = Batch.objects.select_related("assay").get(pk=batch_id)
    return {"close_after": batch.assay.batch_close_after.total_seconds()}


@step("samples.batch_close")
def batch_close(batch_id: int) -> list[dict[str, Any]]:
    return services.batch_close(batch_id=batch_id)


@step("samples.batch_complete")
def batch_complete(batch_id: int) -> None:
    services.batch_mark_completed(batch_id=batch_id)


# --- quality control of a batch run (samples.services.qc_decisions) ---------------------------


@step("samples.qc_controls")
def qc_controls(batch_id: int) -> list[str]:
    return services.qc_controls(batch_id=batch_id)


@step("samples.qc_conclude")
def qc_conclude(batch_id: int) -> dict[str, Any]:
    return services.qc_conclude(batch_id=batch_id)


@step("samples.qc_remind")
def qc_remind(batch_id: int) -> dict[str, Any]:
    return services.qc_remind(batch_id=batch_id)


@step("samples.qc_control_plan")
def qc_control_plan(batch_id: int) -> dict[str, Any]:
    """Version 3: the run's controls and how often the supervisors are reminded of a missing
    control result."""
    return services.qc_control_plan(batch_id=batch_id)


@step("samples.qc_control_remind")
def qc_control_remind(batch_id: int) -> dict[str, Any]:
    return services.qc_control_remind(batch_id=batch_id)
