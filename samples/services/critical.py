"""Critical (panic) values: the notification of each, the calls recorded about it, the
escalation to the supervisors, and the hold on release while one is open (CLIA 42 CFR
493.1291(g): the lab alerts the person responsible at once).

The rules:
- A result beyond its assay's critical limits opens one notification (lifecycle version 4,
  step ``samples.critical_open``), kept by its own workflow (``samples.lifecycle.critical``).
  The notification records the value to call; while no call has closed it, it follows the
  result's corrections (the read-back is checked against the value standing), and a correction
  out of the critical range withdraws it (no call to make). A correction of a value already
  called to another critical value opens the result's next notification, with its own
  workflow, SLA and call (``critical_amended``).
- A technician or a reviewer records each call: to whom (a name, and where or in which role),
  when (now unless given; bounded as every time is), the value read back, the outcome.
  ``confirmed`` needs a read-back equal to the notification's value; ``confirmed`` and
  ``reached_without_read_back`` close the notification; ``unable_to_reach`` is recorded and it
  stays open. A call on a notification already closed (or already answered by a closing call)
  is refused. Each call signals the notification's workflow (signal ``call``).
- The workflow closes the notification (within the SLA: ``in_time``, else ``late``; withdrawn:
  ``withdrawn``) and signals
  the sample's run: ``critical:<result_id>`` for the result's first notification (lifecycle
  version 4 waits for it before release), ``critical:<result_id>:<number>`` for a later one.
- No closing call within ``CRITICAL_CALL_SLA_MINUTES``: the supervisors (active reviewers with
  an email address) are emailed, and again after each further period while it stays open.
- A sample with an open notification is not signed (``critical_hold_check``).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.lifecycle.names import CRITICAL_NOTIFICATION
from samples.models import (
    CALLED_OUTCOMES,
    CLOSING_OUTCOMES,
    CallOutcome,
    CriticalCall,
    CriticalNotification,
    NotificationOutcome,
    Result,
    Sample,
)
from samples.roles import Role
from samples.services.access import require_role
from samples.services.specimens import sample_get
from samples.values.bounds import moment, moment_text, number
from samples.values.codes import code_clean
from samples.values.numbers import decimal_point
from samples.values.times import utc_text
from workflows.api import signal, start

log = logging.getLogger(__name__)

OUTCOMES = ", ".join(CALLED_OUTCOMES)


def sla() -> timedelta:
    return timedelta(minutes=settings.CRITICAL_CALL_SLA_MINUTES)


def _key(result_id: int, number: int) -> str:
    """The workflow's key and the sample run's signal: the first as before, later ones apart."""
    return f"critical:{result_id}" if number == 1 else f"critical:{result_id}:{number}"


# --- the workflow's steps --------------------------------------------------------------------


def critical_open(
    *, barcode: str, result_id: int, at: float, number: int = 1, reason: str = ""
) -> dict[str, Any]:
    """Open the result's notification ``number`` (once) at ``at`` (a timestamp: when the value
    was found, or corrected) about the result's value now, and start its workflow (once: keyed
    by the result and the number). Returns the notification's id and its SLA's end (a
    timestamp)."""
    result = Result.objects.select_related("sample").get(pk=result_id, sample__barcode=barcode)
    now = datetime.fromtimestamp(at, UTC)
    with transaction.atomic():
        notification, _ = CriticalNotification.objects.get_or_create(
            result=result,
            number=number,
            defaults={
                "sample": result.sample,
                "opened_at": now,
                "due_at": now + sla(),
                "value": result.value,
                "flag": result.interpretation,
                "reason": reason,
            },
        )
        if notification.run_id is None:
            run_id = start(CRITICAL_NOTIFICATION, notification.pk, key=_key(result_id, number))
            CriticalNotification.objects.filter(pk=notification.pk, run_id=None).update(
                run_id=run_id
            )
    return {"notification": notification.pk, "due": notification.due_at.timestamp()}


def critical_amended(
    *, user: Any, result: Result, critical: bool, was_critical: bool, at: datetime, reason: str
) -> None:
    """The result's value was corrected by ``user`` (``result`` holds the new one, saved;
    ``critical`` and ``was_critical``: whether the new and the old value are beyond the
    critical limits). Its notification not yet called now names the new critical value (the
    read-back is checked against it; its SLA runs on from when it opened), or, the new value
    being no longer critical, is withdrawn: nobody was told the value, so there is no call to
    make and release goes on. A critical value with no notification called (none, or the last
    withdrawn), or differing from the value called, opens the result's next notification."""
    latest = result.notifications.select_for_update().order_by("number").last()
    if latest is not None and latest.closed_at is None and not _closing_call(latest):
        if critical:
            CriticalNotification.objects.filter(pk=latest.pk).update(
                value=result.value, flag=result.interpretation
            )
        else:
            _withdraw(latest, user=user, at=at)
        return
    if not critical or result.value is None:
        return
    withdrawn = latest is not None and latest.calls.filter(outcome=CallOutcome.WITHDRAWN).exists()
    if (
        (latest is None and not was_critical)
        or withdrawn
        or (latest is not None and latest.value != result.value)  # unknown (older): call again
    ):
        critical_open(
            barcode=result.sample.barcode,
            result_id=result.pk,
            at=at.timestamp(),
            number=1 if latest is None else latest.number + 1,
            reason=reason,
        )


def _withdraw(notification: CriticalNotification, *, user: Any, at: datetime) -> None:
    """Record on ``notification`` that no call is needed (a call of outcome ``withdrawn``, by
    whoever corrected the value) and signal its workflow, which closes it as withdrawn."""
    call = CriticalCall.objects.create(
        notification=notification,
        called_name="",
        called_at=at,
        outcome=CallOutcome.WITHDRAWN,
        recorded_by=user,
        recorded_at=at,
    )
    signal(
        str(notification.run_id),
        "call",
        {"call_id": call.pk, "outcome": call.outcome, "closes": True},
        actor=actor_name(user),
        idempotency_key=f"critical-call:{call.pk}",
    )


# The first notification of a result, for the runs of the workflow's version 1 (their steps
# name the result; a result had one notification then).
def critical_plan(*, result_id: int) -> dict[str, Any]:
    return notification_plan(notification_id=_first(result_id))


def critical_escalate(*, result_id: int, round: int, at: float) -> str:
    return notification_escalate(notification_id=_first(result_id), round=round, at=at)


def critical_close(*, result_id: int, call_id: int, late: bool) -> str:
    return notification_close(notification_id=_first(result_id), call_id=call_id, late=late)


def _first(result_id: int) -> int:
    return CriticalNotification.objects.values_list("pk", flat=True).get(
        result_id=result_id, number=1
    )


def notification_plan(*, notification_id: int) -> dict[str, Any]:
    """What the notification's workflow needs once: the SLA's end and its length."""
    notification = CriticalNotification.objects.get(pk=notification_id)
    return {"due": notification.due_at.timestamp(), "every": sla().total_seconds()}


def notification_escalate(*, notification_id: int, round: int, at: float) -> str:
    """The SLA passed with no closing call (its timer fired at ``at``, a timestamp): record it
    (``escalated_at`` the first time) and email the supervisors, naming the value to call.
    ``round`` (1, 2...) makes a second run of the step a no-op; the mail goes at least once."""
    notification = CriticalNotification.objects.select_related("result__assay", "sample").get(
        pk=notification_id
    )
    now = datetime.fromtimestamp(at, UTC)
    claimed = CriticalNotification.objects.filter(
        pk=notification.pk, escalations=round - 1, closed_at=None
    ).update(escalations=round)
    if not claimed:
        return f"escalation {round} already recorded"
    CriticalNotification.objects.filter(pk=notification.pk, escalated_at=None).update(
        escalated_at=now
    )
    minutes = int((now - notification.opened_at).total_seconds() // 60)
    what = notification.reading
    subject = f"Critical value not yet called: {notification.sample.barcode} {what}"
    body = (
        f"Sample {notification.sample.barcode}: critical value {what}, opened "
        f"{utc_text(notification.opened_at)}. No call closing it has been recorded in "
        f"{minutes} min (the SLA is {settings.CRITICAL_CALL_SLA_MINUTES} min). "
        "Please make sure the responsible person is reached and the call recorded."
    )
    recipients = sorted(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.REVIEWER.value)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return f"escalation {round} recorded; no supervisor has an email address"
    try:
        send_mail(subject, body, None, recipients)
    except (OSError, smtplib.SMTPException) as error:  # recorded all the same; the page shows it
        log.warning("escalation mail for notification %s not sent: %s", notification_id, error)
        return f"escalation {round} recorded; the mail was not sent ({error})"
    return f"escalation {round} recorded; mailed {len(recipients)} supervisor(s)"


def notification_close(*, notification_id: int, call_id: int, late: bool) -> str:
    """Close the notification with the call that closed it and tell the sample's run (signal
    ``critical:<result_id>``, ``critical:<result_id>:<number>`` after the first) that release
    may go on. ``late``: the SLA's timer fired before the call was recorded (the notification
    breached its SLA)."""
    call = CriticalCall.objects.select_related("notification__sample").get(
        pk=call_id, notification_id=notification_id
    )
    notification = call.notification
    name = _key(notification.result_id, notification.number)
    outcome = NotificationOutcome.LATE if late else NotificationOutcome.IN_TIME
    if call.outcome == CallOutcome.WITHDRAWN:
        outcome = NotificationOutcome.WITHDRAWN
    with transaction.atomic():
        CriticalNotification.objects.filter(pk=notification.pk, closed_at=None).update(
            closed_at=call.called_at, outcome=outcome
        )
        signal(
            str(notification.sample.run_id),
            name,
            {"call_id": call.pk, "outcome": call.outcome},
            actor=call.recorded_by.get_username(),
            idempotency_key=f"{name}:closed",
        )
    return f"notification closed ({NotificationOutcome(outcome).label})"


# --- people's actions ------------------------------------------------------------------------


def critical_call_record(
    *,
    user: Any,
    barcode: str,
    called_name: str,
    outcome: str,
    called_where: str = "",
    read_back: str | Decimal | None = None,
    called_at: datetime | str | None = None,
    assay: str = "",
    notification_id: int | None = None,
) -> CriticalCall:
    """Record a call about an open critical value of the sample (``assay`` names which, when
    the sample has more than one open; ``notification_id``, from a page showing one, must name
    the one open) and signal its workflow. Refused, changing nothing: a
    role other than technician or reviewer, an unknown outcome, a missing name, a confirmed
    call whose read-back differs from the value, a notification already closed."""
    require_role(user, Role.TECHNICIAN, Role.REVIEWER)
    sample = sample_get(barcode)
    if outcome not in CALLED_OUTCOMES:
        raise LabError(
            f"{str(outcome)[:40]!r} is not an outcome of a call: one of {OUTCOMES}.",
            field="outcome",
        )
    called_name = (called_name or "").strip()
    if not called_name:
        raise LabError("Name the person called.", field="called_name")
    if len(called_name) > 120:
        raise LabError("The name is longer than 120 characters.", field="called_name")
    called_where = (called_where or "").strip()
    if len(called_where) > 120:
        raise LabError("Where or who is longer than 120 characters.", field="called_where")
    when = _called_at(called_at)
    with transaction.atomic():
        notification = _open_notification(sample, assay)
        if notification_id is not None and notification.pk != notification_id:
            raise LabError(
                f"The notification shown is closed; {sample.barcode}'s critical value to call "
                f"now is {notification.reading}: reload the page and record the call there."
            )
        value = _read_back(read_back)
        if outcome == CallOutcome.CONFIRMED:
            if value is None:
                raise LabError(
                    "A confirmed call needs the value read back by the person called.",
                    field="read_back",
                )
            if value != notification.called_value:
                raise LabError(
                    f"The value read back, {_plain(value)}, is not the result "
                    f"{notification.reading}: read the value again, or record the call as "
                    "reached without read-back.",
                    field="read_back",
                )
        call = CriticalCall.objects.create(
            notification=notification,
            called_name=called_name,
            called_where=called_where,
            called_at=when,
            read_back=value,
            outcome=outcome,
            recorded_by=user,
            recorded_at=timezone.now(),
        )
        signal(
            str(notification.run_id),
            "call",
            {"call_id": call.pk, "outcome": outcome, "closes": outcome in CLOSING_OUTCOMES},
            actor=actor_name(user),
            idempotency_key=f"critical-call:{call.pk}",
        )
    return call


def _called_at(given: datetime | str | None) -> datetime:
    what = "the time of the call"
    if given is None or given == "":
        return timezone.now()
    if isinstance(given, str):
        return moment_text(given, field="called_at", what=what)
    return moment(given, field="called_at", what=what)


def _read_back(given: str | Decimal | None) -> Decimal | None:
    if given is None:
        return None
    if isinstance(given, Decimal):
        text = str(given)
    else:
        text = decimal_point(str(given), field="read_back")
    if not text.strip():
        return None
    return number(text, field="read_back")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _open_notification(sample: Sample, assay: str) -> CriticalNotification:
    """The sample's notification the call is about, locked: the one open (or the assay's)."""
    notifications = list(
        CriticalNotification.objects.select_for_update()
        .select_related("result__assay")
        .filter(sample=sample)
        .order_by("opened_at", "pk")
    )
    if assay:
        code = code_clean(assay)
        notifications = [n for n in notifications if n.result.assay.code == code]
        if not notifications:
            raise LabError(f"{sample.barcode} has no critical {code} value.", field="assay")
    if not notifications:
        raise LabError(f"{sample.barcode} has no critical value to call.")
    open_ones = [n for n in notifications if n.closed_at is None and not _closing_call(n)]
    if not open_ones:
        last = notifications[-1]
        raise LabError(
            f"The critical {last.result.assay.code} value of {sample.barcode} is already "
            "notified: its notification is closed."
        )
    if len(open_ones) > 1:
        codes = ", ".join(n.result.assay.code for n in open_ones)
        raise LabError(
            f"{sample.barcode} has open critical values for {codes}: name the assay.",
            field="assay",
        )
    return open_ones[0]


def _closing_call(notification: CriticalNotification) -> bool:
    return notification.calls.filter(outcome__in=CLOSING_OUTCOMES).exists()


# --- the hold on release ---------------------------------------------------------------------


def critical_hold_check(sample: Sample) -> None:
    """Refuse to sign a sample with an open critical value notification (naming the assay)."""
    waiting = (
        CriticalNotification.objects.filter(sample=sample, closed_at=None)
        .select_related("result__assay")
        .order_by("opened_at")
    )
    if waiting:
        values = ", ".join(n.reading for n in waiting)
        raise LabError(
            f"{sample.barcode}: the critical value {values} is not yet notified: record the "
            "call to the responsible person before release."
        )
