"""Results out: a released sample's results sent as an ORU^R01 to every active destination
(the ordering system), each message waiting for its ACK.

- ``outbox_prepare`` makes one message per active destination, once per preparing step
  (``prepared_by``: the step's idempotency key): its control id and bytes are fixed here,
  before any attempt, so a step run again after a crash finds the same messages and a retry
  sends the same message with the same control id.
- ``outbox_attempt`` sends a message once and reads the answer: AA or CA acknowledge it; AE,
  AR (CE, CR), no answer, a refused connection or an answer that is not an ACK leave it
  ``failing`` with the reason, and raise ``DeliveryFailed`` for the workflow's retry.
- ``outbox_park`` sets aside, for a person, a message whose attempts are spent (``parked``);
  the sample's workflow goes on.
- ``outbox_resend``: a supervisor (reviewer) sends a parked or failing message again, with a
  reason; it is recorded on the message and in the audit trail.

The corrected message of a re-release after a correction is sent by its workflow
(``samples.lifecycle.corrections``), once the corrected results are signed.
"""

from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any

import pghistory
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from samples.actors import actor_name
from samples.documents.oru import CORRECTED, ORIGINAL, ack_read, oru_build
from samples.errors import LabError
from samples.lifecycle.names import RESULTS_OUT
from samples.models import (
    Destination,
    OutboundMessage,
    OutboundStatus,
    Protocol,
    Sample,
)
from samples.roles import Role
from samples.selectors.signatures import current_results
from samples.services.access import require_role
from workflows.api import start

START, END = b"\x0b", b"\x1c\r"  # MLLP framing
ACCEPTED = ("AA", "CA")
RESENDABLE = (OutboundStatus.FAILING, OutboundStatus.PARKED)
MAX_ACK_BYTES = 1_000_000


class DeliveryFailed(Exception):
    """An attempt that did not get the message acknowledged (retried by the workflow)."""


def outbox_prepare(*, barcode: str, kind: str, prepared_by: str) -> list[int]:
    """The ids of the messages that send ``barcode``'s current results to every active
    destination, made once for ``prepared_by`` (a second call returns the same ones)."""
    if kind not in (ORIGINAL, CORRECTED):
        raise ValueError(f"unknown kind of message {kind!r}")
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(barcode=barcode)
        made = list(
            OutboundMessage.objects.filter(prepared_by=prepared_by)
            .order_by("destination__name")
            .values_list("pk", flat=True)
        )
        if made:
            return made
        results = current_results(sample)
        now = timezone.now()
        ids = []
        for destination in Destination.objects.filter(is_active=True).order_by("name"):
            control_id = "LT" + uuid.uuid4().hex[:18].upper()
            payload = oru_build(
                sample=sample,
                results=results,
                control_id=control_id,
                kind=kind,
                at=now,
                receiver=destination.name,
            )
            message = OutboundMessage.objects.create(
                sample=sample,
                destination=destination,
                kind=kind,
                prepared_by=prepared_by,
                control_id=control_id,
                payload=payload,
                sha256=hashlib.sha256(payload).hexdigest(),
                created_at=now,
            )
            ids.append(message.pk)
    return ids


def outbox_attempt(*, message_id: int) -> str:
    """Send the message once and wait for its ACK; returns its status. A message already
    acknowledged is not sent again. Raises ``DeliveryFailed`` when it was not acknowledged."""
    message = OutboundMessage.objects.select_related("destination").get(pk=message_id)
    if message.status == OutboundStatus.ACKNOWLEDGED:
        return str(message.status)
    OutboundMessage.objects.filter(pk=message_id).exclude(
        status=OutboundStatus.ACKNOWLEDGED
    ).update(status=OutboundStatus.SENT, attempts=F("attempts") + 1, sent_at=timezone.now())
    try:
        answer = _transmit(message.destination, bytes(message.payload))
        code, answered, text = ack_read(answer)
    except (OSError, ValueError) as error:
        _failing(message_id, f"{type(error).__name__}: {error}" if str(error) else repr(error))
        raise DeliveryFailed(f"{message.destination.name}: {error}") from error
    if answered and answered != message.control_id:
        _failing(message_id, f"the ACK answers {answered}, not {message.control_id}", answer)
        raise DeliveryFailed(f"{message.destination.name}: ACK for another message")
    if code not in ACCEPTED:
        reason = f"{code}: {text}" if text else code
        _failing(message_id, reason, answer)
        raise DeliveryFailed(f"{message.destination.name} answered {reason}")
    OutboundMessage.objects.filter(pk=message_id).update(
        status=OutboundStatus.ACKNOWLEDGED,
        ack=_text(answer),
        acknowledged_at=timezone.now(),
        last_error="",
    )
    return str(OutboundStatus.ACKNOWLEDGED)


def _text(answer: bytes) -> str:
    return answer.decode("utf-8", errors="replace").replace("\x00", "")


def _failing(message_id: int, error: str, answer: bytes = b"") -> None:
    OutboundMessage.objects.filter(pk=message_id).exclude(
        status=OutboundStatus.ACKNOWLEDGED
    ).update(
        status=OutboundStatus.FAILING,
        last_error=error.replace("\x00", "")[:2000],
        ack=_text(answer),
    )


def outbox_park(*, message_id: int, error: str) -> str:
    """Set a message whose attempts are spent aside for a person (unless it was
    acknowledged meanwhile); its last error is kept, ``error`` when it has none."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboundStatus.ACKNOWLEDGED:
            message.status = OutboundStatus.PARKED
            message.parked_at = timezone.now()
            message.last_error = message.last_error or error[:2000]
            message.save(update_fields=["status", "parked_at", "last_error"])
    return str(message.status)


def outbox_resend(*, user: Any, message_id: int, reason: str) -> OutboundMessage:
    """A supervisor sends a failing or parked message again (the same bytes, the same control
    id), with a reason kept on the message and in the audit trail."""
    require_role(user, Role.REVIEWER)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A re-send needs a reason.", field="reason")
    if len(reason) > 2000:
        raise LabError("The reason is too long (2,000 characters at most).", field="reason")
    with transaction.atomic(), pghistory.context(reason=reason, action="re-send"):
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise LabError(f"There is no message {message_id}.")
        if message.status not in RESENDABLE:
            raise LabError(
                f"Message {message.control_id} is {message.get_status_display().lower()}: "
                "only a failing or parked message can be sent again."
            )
        message.status = OutboundStatus.PENDING
        message.resent_by, message.resent_at = user, timezone.now()
        message.resend_reason = reason
        message.resends += 1
        message.parked_at = None
        message.save(
            update_fields=[
                "status",
                "resent_by",
                "resent_at",
                "resend_reason",
                "resends",
                "parked_at",
            ]
        )
        start(
            RESULTS_OUT,
            message.sample.barcode,
            message.kind,
            [message.pk],
            key=f"resend:{message.pk}:{message.resends}",
            actor=actor_name(user),
        )
    return message


def _transmit(destination: Destination, payload: bytes) -> bytes:
    timeout = settings.OUTBOX_ACK_TIMEOUT_SECONDS
    if destination.protocol == Protocol.MLLP:
        return mllp_send(destination.host, int(destination.port or 0), payload, timeout)
    return http_send(destination.url, payload, timeout)


def mllp_send(host: str, port: int, payload: bytes, timeout: float) -> bytes:
    """One message over MLLP (start block, message, end block and carriage return) and the
    one framed answer that comes back."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        conn.sendall(START + payload + END)
        received = b""
        while END[:1] not in received:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("the destination closed the connection without an ACK")
            received += chunk
            if len(received) > MAX_ACK_BYTES:
                raise ValueError("the answer is larger than an ACK can be")
    framed = received.split(END[:1], 1)[0]
    return framed[framed.find(START) + 1 :] if START in framed else framed


def http_send(url: str, payload: bytes, timeout: float) -> bytes:
    """One message by HTTP POST; the ACK is the answer's body (an HTTP error status with an
    ACK in its body counts by the ACK)."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP address: {url[:80]!r}")
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "x-application/hl7-v2+er7; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read(MAX_ACK_BYTES))
    except urllib.error.HTTPError as error:
        body = error.read(MAX_ACK_BYTES)
        if body.lstrip().startswith(b"MSH"):
            return bytes(body)
        raise ConnectionError(f"HTTP {error.code} without an ACK") from error
