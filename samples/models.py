"""The lab's records: assays and instruments (configuration), samples, batches, results,
retests, signatures and reports; quality control: control materials and lots, their positions
in runs, their results and supervisors' decisions on rejected runs.

A sample's ``state`` is a projection of its lifecycle workflow (``samples.lifecycle.flows``): only
the workflow's steps change it. Results are never overwritten: a retest adds a new result and links
the old one to it. Writes go through ``samples.services``; reads through
``samples.selectors``.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import F, Q

from samples.tracking import audited, audited_with, audited_without
from samples.values.bounds import EARLIEST, LATEST, measured_doubt
from samples.values.times import utc_text

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]*$", "Use capital letters, digits, '-' and '_' (for example GLU)."
)


class ResultKind(models.TextChoices):
    QUANTITATIVE = "quantitative", "Quantitative: a number"
    QUALITATIVE = "qualitative", "Qualitative: one of its answers"


@audited_with("can_be_negative", "kind", "answers")
class Assay(models.Model):
    code = models.CharField(max_length=16, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    units = models.CharField(max_length=32, blank=True)  # none for a qualitative assay
    kind = models.CharField(
        max_length=12,
        choices=ResultKind.choices,
        default=ResultKind.QUANTITATIVE,
        help_text="What a result of this assay is: a number, or one of its answers.",
    )
    # A qualitative assay's answers, in order: [{"text": "Positive", "abnormal": true}, ...]
    # (``samples.values.answers``); none for a quantitative assay.
    answers = models.JSONField(default=list, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    batch_capacity = models.PositiveIntegerField(default=96, validators=[MinValueValidator(1)])
    batch_close_after = models.DurationField(
        default=timedelta(hours=2), help_text="An open batch closes this long after it opened."
    )
    stability_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Hours after collection within which the sample must be analysed.",
    )
    max_retests = models.PositiveSmallIntegerField(default=2)
    can_be_negative = models.BooleanField(
        default=False,
        help_text="Whether a result of this assay can be below 0 (a base excess can; a "
        "concentration cannot). When not, a negative result is refused.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True)
                | Q(reference_high__isnull=True)
                | Q(reference_low__lte=F("reference_high")),
                name="assay_reference_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(critical_low__isnull=True)
                | Q(critical_high__isnull=True)
                | Q(critical_low__lt=F("critical_high")),
                name="assay_critical_limits_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ResultKind.values), name="assay_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    @property
    def is_qualitative(self) -> bool:
        return self.kind == ResultKind.QUALITATIVE


@audited
class Instrument(models.Model):
    name = models.CharField(max_length=64, unique=True)
    model = models.CharField(max_length=120)
    serial = models.CharField(max_length=64, unique=True)
    assays = models.ManyToManyField(Assay, blank=True, related_name="instruments")
    # The identity the instrument authenticates as over the API (member of the instrument role).
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instrument"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


barcode_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{2,31}$",
    "An accession barcode is 3 to 32 capital letters, digits and '-' (for example S-000123).",
)


class SampleState(models.TextChoices):
    REGISTERED = "registered", "Registered"
    RECEIVED = "received", "Received"
    AWAITING_BATCH = "awaiting_batch", "Awaiting batch"
    IN_BATCH = "in_batch", "In batch"
    RESULTED = "resulted", "Resulted"
    RETEST_PENDING = "retest_pending", "Retest pending"
    VERIFIED = "verified", "Verified"
    REPORTED = "reported", "Reported"
    # A result corrected after release (``samples.lifecycle.corrections``): back to review.
    AMENDED = "amended", "Corrected after release: awaiting review"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


TERMINAL_STATES = [
    SampleState.REPORTED,
    SampleState.REJECTED,
    SampleState.CANCELLED,
    SampleState.EXPIRED,
]


class SpecimenType(models.TextChoices):
    SERUM = "serum", "Serum"
    PLASMA = "plasma", "Plasma"
    WHOLE_BLOOD = "whole_blood", "Whole blood"
    URINE = "urine", "Urine"
    CSF = "csf", "Cerebrospinal fluid"


class RunLink(models.Model):
    """The sample or batch each workflow run belongs to, kept for good. A sample or batch
    follows its current run (``run_id`` moves when the console restarts a run from a step);
    the runs it had before stay linked here, so their history stays in its audit trail.
    Written by the database (``_link_runs``) whenever a run id is set, whatever sets it."""

    run_id = models.UUIDField(primary_key=True)
    barcode = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 (a sample's)
    batch_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["barcode"], name="runlink_barcode")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        owner = self.barcode or f"batch {self.batch_id}"
        return f"run {self.run_id} of {owner}"


def _link_runs(record: str, values: str) -> pgtrigger.Trigger:
    """A trigger that links each run id set on a sample or batch in ``RunLink``."""
    return pgtrigger.Trigger(
        name=f"{record}_links_runs",
        when=pgtrigger.After,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("run_id"),
        condition=pgtrigger.Q(new__run_id__isnull=False),
        func=(
            "INSERT INTO samples_runlink (run_id, barcode, batch_id) "
            f"VALUES (NEW.run_id, {values}) ON CONFLICT (run_id) DO NOTHING; RETURN NULL;"
        ),
    )


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    STAT = "stat", "STAT"


class ReceiptCondition(models.TextChoices):
    ACCEPTABLE = "acceptable", "Acceptable"
    HAEMOLYSED = "haemolysed", "Haemolysed (slight)"
    LIPAEMIC = "lipaemic", "Lipaemic (slight)"
    ICTERIC = "icteric", "Icteric (slight)"


@audited
class Sample(models.Model):
    barcode = models.CharField(max_length=32, unique=True, validators=[barcode_validator])
    specimen_type = models.CharField(max_length=16, choices=SpecimenType.choices)
    # An anonymised reference to the subject (never a name): the lab holds no identities.
    subject_ref = models.CharField(max_length=64)
    collected_at = models.DateTimeField()
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    assays = models.ManyToManyField(Assay, related_name="samples")
    state = models.CharField(
        max_length=16, choices=SampleState.choices, default=SampleState.REGISTERED
    )
    state_changed_at = models.DateTimeField()
    run_id = models.UUIDField(null=True, blank=True, unique=True)  # its lifecycle workflow
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    receipt_condition = models.CharField(
        max_length=16, choices=ReceiptCondition.choices, blank=True
    )
    # A correction of the condition at receipt (with a reason); the condition first recorded
    # stays in the audit trail and is shown next to the amended one.
    condition_amended_at = models.DateTimeField(null=True, blank=True)
    condition_amendment_reason = models.TextField(blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)
    # When its results were first verified and released (the reviewer's first "reviewed and
    # released" signature): the end of its turnaround. Set once; a later signature of amended
    # results does not move it.
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at"]
        indexes = [
            models.Index(fields=["state", "collected_at"]),
            # The dashboard's samples released in a period.
            models.Index(
                fields=["released_at"],
                name="sample_released",
                condition=models.Q(released_at__isnull=False),
            ),
        ]
        constraints = [
            # No page can show a time before the year 1 in UTC: none is ever stored, whatever
            # door it came through (samples/values/bounds.py checks the same at every door).
            models.CheckConstraint(
                condition=Q(collected_at__gte=EARLIEST) & Q(collected_at__lt=LATEST),
                name="sample_collected_in_range",
            ),
            models.CheckConstraint(
                condition=Q(received_at__isnull=True)
                | (Q(received_at__gte=EARLIEST) & Q(received_at__lt=LATEST)),
                name="sample_received_in_range",
            ),
        ]
        triggers = [_link_runs("sample", "NEW.barcode, NULL")]

    def __str__(self) -> str:
        return self.barcode


class BatchStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed, waiting for its run"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"


class QcStatus(models.TextChoices):
    """Where a batch's run stands with its quality control (``samples.lifecycle.quality``)."""

    NOT_REQUIRED = "not_required", "No control lot set up"
    PENDING = "pending", "Waiting for its control results"
    ACCEPTED = "accepted", "Controls in range"
    REJECTED = "rejected", "Rejected by QC: results held"
    ACCEPTED_BY_DECISION = "accepted_by_decision", "Rejected by QC, accepted by a supervisor"
    RERUN = "rerun", "Rejected by QC, run again"


# Who started its run (``started_by``) and when is evidence: every change is an event.
@audited_with("qc_status")
class Batch(models.Model):
    assay = models.ForeignKey(Assay, on_delete=models.PROTECT, related_name="batches")
    status = models.CharField(max_length=16, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    capacity = models.PositiveIntegerField()
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    run_id = models.UUIDField(null=True, blank=True, unique=True)  # its batch_run workflow
    # Set when its run starts: pending when control lots are set up for its assay and
    # instrument; its patient results are held until it is accepted.
    qc_status = models.CharField(
        max_length=24, choices=QcStatus.choices, default=QcStatus.NOT_REQUIRED
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # Samples join the one open batch of their assay.
            models.UniqueConstraint(
                fields=["assay"], condition=Q(status="open"), name="batch_one_open_per_assay"
            )
        ]
        triggers = [_link_runs("batch", "NULL, NEW.id")]

    def __str__(self) -> str:
        return f"{self.assay.code} batch {self.pk}"


# A batch holds at most ``capacity`` samples: positions are unique in a batch and dense from 1
# (``samples.services.batches``), so no position past the capacity holds whoever inserts it.
MEMBER_WITHIN_CAPACITY = """
IF NEW.position > (SELECT capacity FROM samples_batch WHERE id = NEW.batch_id) THEN
    RAISE EXCEPTION 'batch %: position % is past its capacity', NEW.batch_id, NEW.position
        USING ERRCODE = 'check_violation';
END IF;
RETURN NEW;
"""


class BatchMember(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="members")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="batch_places")
    position = models.PositiveIntegerField()  # plate position, 1-based, in order of joining
    added_at = models.DateTimeField()
    join_key = models.CharField(max_length=120, unique=True)  # the joining step's key

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sample"], name="member_once_per_batch"),
            models.UniqueConstraint(fields=["batch", "position"], name="member_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="member_position_from_1"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="member_within_capacity",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("position", "batch_id"),
                func=pgtrigger.Func(MEMBER_WITHIN_CAPACITY),
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample.barcode} at {self.position} in batch {self.batch_id}"


@audited_with("text")
class Result(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="results")
    assay = models.ForeignKey(Assay, on_delete=models.PROTECT, related_name="results")
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )
    # A number (a quantitative assay) or an answer (a qualitative one): exactly one of them.
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # Null, not "": the database's check tells a result with an answer from one without.
    text = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    units = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)  # as the instrument reported them
    # The lab's reading of the value: "L"/"H" outside the reference range, "LL"/"HH" critical;
    # "A" for an answer the assay marks abnormal.
    interpretation = models.CharField(max_length=2, blank=True)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry_reason = models.TextField(blank=True)  # why a result was entered by hand
    measured_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    superseded_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    # Lifecycle version 2 flags a critical result for the reviewer's attention before release.
    critical_flagged_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "InstrumentMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="results",
    )
    instrument_run_id = models.CharField(max_length=200, blank=True)  # the instrument's run
    # A correction of the value (with a reason); the value as first recorded stays in the
    # audit trail (the result's first event) and is shown next to the amended one.
    amended_at = models.DateTimeField(null=True, blank=True)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amendment_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["sample", "assay", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__isnull=False) | Q(entered_by__isnull=False),
                name="result_has_a_source",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False, text__isnull=True)
                | Q(value__isnull=True, text__isnull=False),
                name="result_is_a_number_or_an_answer",
            ),
            models.CheckConstraint(
                condition=Q(measured_at__gte=EARLIEST) & Q(measured_at__lt=LATEST),
                name="result_measured_in_range",
            ),
            # An instrument's run reports a sample's assay once, however often it is re-sent.
            models.UniqueConstraint(
                fields=["instrument", "instrument_run_id", "sample", "assay"],
                condition=~Q(instrument_run_id=""),
                name="result_once_per_instrument_run",
            ),
        ]
        # The dashboard's results recorded in a period (retest rates).
        indexes = [
            models.Index(
                fields=["recorded_at"], include=["assay", "instrument"], name="result_recorded"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assay.code} {self.reading} {self.units} for {self.sample.barcode}"

    @property
    def reading(self) -> str:
        """The result as people read it: its answer, or its number ("3.9", never "3.9000")."""
        return reading_of(self.value, self.text)

    @property
    def shown(self) -> str:
        """Its reading with its units: "4.9 mmol/L"; an answer has none: "Positive"."""
        return f"{self.reading} {self.units}".strip()

    @property
    def time_flag(self) -> str:
        """Why its measurement time cannot be right, for the reviewer ("" when it can)."""
        collected = self.sample.collected_at
        return measured_doubt(self.measured_at, collected=collected, recorded=self.recorded_at)


def reading_of(value: Any, text: str | None) -> str:
    """A result's value or answer as shown ("800", not "8E+2"); "—" when there is neither."""
    if text is not None:
        return text
    if value is None:
        return "—"
    return format(Decimal(str(value)).normalize(), "f")


# A message's answer (status and body) is set once, after its results are recorded; nothing
# else of it ever changes, and it is never deleted.
MESSAGE_KEPT = """
IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'instrument message %: kept as received, never deleted', OLD.id;
END IF;
IF OLD.status_code IS NOT NULL OR OLD.answer IS NOT NULL
   OR (to_jsonb(NEW) - 'status_code' - 'answer') <> (to_jsonb(OLD) - 'status_code' - 'answer')
THEN
    RAISE EXCEPTION 'instrument message %: kept as received; only its answer is set, once',
        OLD.id;
END IF;
RETURN NEW;
"""


# Its SHA-256, who sent it, when and its answer: chained.
@audited_without("raw", "body", added=("door", "control_id", "conflicts_with"))
class InstrumentMessage(models.Model):
    """A message an instrument or integration client sent, stored as the bytes received with
    their SHA-256, with the answer it got, whether it was taken or refused. Results made from it
    link back to it. The database keeps it as received: no delete, and no change but its
    answer, set once.

    ``control_id`` is the key the sender gave it (the JSON ``Idempotency-Key``, HL7's MSH-10);
    ``idempotency_key`` holds it only for the message that claimed it, the first one taken with
    it from that client in that format (``kind``). A later message with the key and other bytes
    is kept with ``conflicts_with`` naming that first one, and nothing of it is recorded."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    kind = models.CharField(max_length=16)  # "results" (JSON) or "hl7"
    door = models.CharField(max_length=8, default="http")  # "http" or "mllp"
    content_type = models.CharField(max_length=100, blank=True)
    raw = models.BinaryField()  # the request body, byte for byte, as received
    sha256 = models.CharField(max_length=64)  # of ``raw``, computed at receipt
    body = models.TextField()  # ``raw`` decoded, for reading
    control_id = models.CharField(max_length=200, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    conflicts_with = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="conflicts"
    )
    received_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # One key space per client and format: a JSON key and an MSH-10 never meet.
            models.UniqueConstraint(
                fields=["client", "kind", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_key_once_per_client_and_kind",
            )
        ]
        triggers = [
            pgtrigger.Trigger(
                name="kept_as_received",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=pgtrigger.Func(MESSAGE_KEPT),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} message {self.pk} from {self.client_id}"


@audited_with("segment")
class UnmatchedResult(models.Model):
    """A result that matched no sample waiting for it, or that could not be read (an HL7 OBX
    that is not a number, say): kept, never dropped, for a technician to match to a sample or
    discard with a reason. ``segment`` is the OBX as received, when it came in HL7."""

    message = models.ForeignKey(InstrumentMessage, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    barcode = models.CharField(max_length=64)
    assay_code = models.CharField(max_length=32)
    value = models.CharField(max_length=64)
    units = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)
    run_id = models.CharField(max_length=200, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    why = models.TextField()
    segment = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=16, blank=True)  # "matched" or "discarded"
    resolution_reason = models.TextField(blank=True)
    result = models.OneToOneField(
        Result, on_delete=models.PROTECT, null=True, blank=True, related_name="unmatched_origin"
    )

    class Meta:
        ordering = ["received_at"]
        indexes = [
            # The inbox and its metrics read only the open entries, oldest first.
            models.Index(
                fields=["received_at"], condition=Q(resolved_at__isnull=True), name="unmatched_open"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(measured_at__isnull=True)
                | (Q(measured_at__gte=EARLIEST) & Q(measured_at__lt=LATEST)),
                name="unmatched_measured_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"unmatched {self.assay_code} {self.value} for {self.barcode}"


@audited
class Retest(models.Model):
    original = models.OneToOneField(Result, on_delete=models.PROTECT, related_name="retest")
    reason = models.TextField()
    requested_by = models.ForeignKey(  # None: asked for by the lifecycle (QC or instrument flag)
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    new_result = models.OneToOneField(
        Result, on_delete=models.PROTECT, null=True, blank=True, related_name="retest_of"
    )

    def __str__(self) -> str:
        return f"retest of {self.original}: {self.reason}"


@audited
class Signature(models.Model):
    """An electronic signature (COMPLIANCE.md C11, C12), bound to a hash of what was signed."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=100)
    signed_at = models.DateTimeField()
    content = models.JSONField()  # exactly what was signed: the results, canonical
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at"]

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.meaning}, {utc_text(self.signed_at)}"


class ReportKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    CORRECTED = "corrected", "Corrected"


# Its SHA-256 and when: chained. Number, kind, what it replaces and its signature came with
# corrected reports: the events of the reports stored before them have none.
@audited_without("pdf", added=("number", "kind", "replaces", "signature"))
class Report(models.Model):
    """A released sample's report as released: stored once with its SHA-256, never changed or
    deleted (the database refuses both); checked against its hash whenever it is served.

    A sample has one report per release: number 1, the original, then a corrected report for
    each re-release after a correction (``samples.lifecycle.corrections``), each naming the
    report it replaces. Every one stays stored and served at its own address."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="reports")
    number = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=16, choices=ReportKind.choices, default=ReportKind.ORIGINAL)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    # The signature that released it (none on the reports stored before this was kept).
    signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="report"
    )
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["sample", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "number"], name="report_number_per_sample"),
            models.CheckConstraint(
                condition=Q(kind="original", number=1, replaces__isnull=True)
                | Q(kind="corrected", number__gt=1, replaces__isnull=False),
                name="report_original_first_then_corrected",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"report {self.number} of {self.sample.barcode}"

    @property
    def is_corrected(self) -> bool:
        return self.kind == ReportKind.CORRECTED


@audited
class ChainCheck(models.Model):
    """A check of the audit trail's hash chains (nightly, from the command or the audit page),
    kept for good: a broken one is an alert for the compliance officers."""

    checked_at = models.DateTimeField()
    trigger = models.CharField(max_length=16)  # "nightly", "command" or "page"
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    events = models.PositiveBigIntegerField()
    chains = models.PositiveBigIntegerField()
    intact = models.BooleanField()
    findings = models.JSONField(default=list, blank=True)  # [{"where": ..., "problem": ...}]

    class Meta:
        ordering = ["-checked_at"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        outcome = "intact" if self.intact else f"{len(self.findings)} broken"
        return f"chain check {utc_text(self.checked_at)}: {outcome}"


class ReviewOutcome(models.TextChoices):
    NO_FINDINGS = "no_findings", "No findings"
    FINDINGS = "findings", "Findings raised"


@audited
class AuditReview(models.Model):
    """A compliance officer's review of a selection of the audit trail (COMPLIANCE.md C7): the
    filter, how many entries it held and up to which time, the outcome and a comment. Reviews
    are records like any other: their creation is itself in the audit trail."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    selection = models.JSONField()  # the filter, as the export's manifest states it
    entries = models.PositiveBigIntegerField()
    through = models.DateTimeField(null=True, blank=True)  # the newest entry reviewed
    outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"review by {self.reviewer_id} at {utc_text(self.reviewed_at)}: {self.outcome}"


class JobKind(models.TextChoices):
    IMPORT = "import", "Sample import from a CSV file"
    VERIFY = "verify", "Check of the audit trail's hash chains"
    AUDIT_PDF = "audit_pdf", "Audit trail as PDF"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """Work that may outlast a request (an import, a check of the chains, a PDF export), done by
    the workers as a durable workflow (``samples.lifecycle.jobs``) a part at a time; a worker that
    stops mid-part is replaced and the part done again, without doing any of it twice. What it made
    (a report per row, a file with its manifest) stays here for the person who asked."""

    kind = models.CharField(max_length=16, choices=JobKind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    params = models.JSONField(default=dict, blank=True)  # e.g. the audit filter
    upload = models.TextField(blank=True)  # the CSV text of an import
    upload_name = models.CharField(max_length=255, blank=True)
    run_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"], name="job_by_person")]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class JobRow(models.Model):
    """One line of an import: the sample it registered, or why it did not."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    barcode = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["line"]
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="one_outcome_per_line")]

    def __str__(self) -> str:
        return f"job {self.job_id} line {self.line}: {self.barcode or self.error}"


class JobFilePart(models.Model):
    """A piece of the file a job made, in order (kept in the database of record, so every web
    process serves it)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="parts")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="one_part_per_seq")]

    def __str__(self) -> str:
        return f"job {self.job_id} part {self.seq}"


class Protocol(models.TextChoices):
    MLLP = "mllp", "HL7 over MLLP (TCP)"
    HTTP = "http", "HL7 over HTTP (POST)"


@audited
class Destination(models.Model):
    """A system released results are sent to (the ordering system), configured by an
    administrator: over MLLP to ``host``:``port``, or by HTTP POST to ``url``. Only active ones
    are sent to; one made inactive keeps the messages already sent to it."""

    name = models.CharField(max_length=100, unique=True)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    url = models.URLField(
        max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(protocol="mllp") & ~Q(host="") & Q(port__isnull=False))
                | (Q(protocol="http") & ~Q(url="")),
                name="destination_has_an_address",
                violation_error_message=(
                    "An MLLP destination needs a host and a port; an HTTP one needs a URL."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.protocol == Protocol.MLLP else self.url


class OutboundKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    CORRECTED = "corrected", "Corrected"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent, waiting for its ACK"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FAILING = "failing", "Failing"
    PARKED = "parked", "Parked"


@audited_without("payload")  # its SHA-256, status, attempts and errors: chained
class OutboundMessage(models.Model):
    """An ORU^R01 for one destination: built once, with its control id, before the first
    attempt, and sent as these bytes on every attempt (so a retried send is the same message).
    ``prepared_by`` names what prepared it (a workflow step's idempotency key), so a step run
    twice finds the messages it made."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="outbound")
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=16, choices=OutboundKind.choices)
    prepared_by = models.CharField(max_length=100)
    control_id = models.CharField(max_length=20, unique=True)
    payload = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    ack = models.TextField(blank=True)  # the acknowledgement received, as text
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)  # the last attempt's
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resent_at = models.DateTimeField(null=True, blank=True)
    resend_reason = models.TextField(blank=True)
    resends = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["prepared_by", "destination"], name="one_message_per_destination_per_step"
            )
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="outbound_by_status")]

    def __str__(self) -> str:
        return f"{self.kind} ORU {self.control_id} to {self.destination_id}"


# --- quality control (CLIA 42 CFR 493.1256) --------------------------------------------------


@audited
class ControlMaterial(models.Model):
    """A control material at one level, e.g. "Lyphochek Assayed Chemistry", level "1"."""

    name = models.CharField(max_length=200)
    level = models.CharField(max_length=32)
    manufacturer = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name", "level"]
        constraints = [
            models.UniqueConstraint(fields=["name", "level"], name="control_material_once")
        ]

    def __str__(self) -> str:
        return f"{self.name}, level {self.level}"


@audited
class ControlLot(models.Model):
    """A lot of a control material as run for one assay on one instrument, with its targets.
    Its control results are one history: the Westgard rules read them in order."""

    material = models.ForeignKey(ControlMaterial, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=64)
    assay = models.ForeignKey(Assay, on_delete=models.PROTECT, related_name="control_lots")
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="control_lots"
    )
    # The id an instrument sends in place of a sample's barcode for this control (OBR-3, the
    # REST API's "sample"), e.g. "QC-GLU-1-24051".
    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    target_mean = models.DecimalField(max_digits=14, decimal_places=4)
    target_sd = models.DecimalField(max_digits=14, decimal_places=4)
    expires_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["assay", "instrument", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(target_sd__gt=0), name="control_lot_sd_positive"),
            models.UniqueConstraint(
                fields=["material", "lot_number", "assay", "instrument"],
                name="control_lot_once_per_assay_and_instrument",
            ),
        ]

    def __str__(self) -> str:
        return self.code


@audited
class BatchControl(models.Model):
    """A control's position in a batch's run, after the samples' positions (the plate map
    shows it)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="controls")
    lot = models.ForeignKey(ControlLot, on_delete=models.PROTECT, related_name="positions")
    position = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "lot"], name="batch_control_once"),
            models.UniqueConstraint(fields=["batch", "position"], name="batch_control_position"),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} in batch {self.batch_id}"


class QcVerdict(models.TextChoices):
    IN_CONTROL = "in_control", "In control"
    WARNING = "warning", "Warning"
    REJECTED = "rejected", "Rejected"


@audited
class ControlResult(models.Model):
    """A control's result in a run, never overwritten, with the Westgard rules it broke over
    its lot's history when it was recorded (``rules``, e.g. ["2-2s", "R-4s"])."""

    control = models.ForeignKey(BatchControl, on_delete=models.PROTECT, related_name="results")
    lot = models.ForeignKey(ControlLot, on_delete=models.PROTECT, related_name="results")
    value = models.DecimalField(max_digits=14, decimal_places=4)
    units = models.CharField(max_length=32, blank=True)
    rules = models.JSONField(default=list, blank=True)
    verdict = models.CharField(max_length=16, choices=QcVerdict.choices)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry_reason = models.TextField(blank=True)  # why a result was entered by hand
    message = models.ForeignKey(
        "InstrumentMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="control_results",
    )
    measured_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["lot", "measured_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__isnull=False) | Q(entered_by__isnull=False),
                name="control_result_has_a_source",
            ),
            models.CheckConstraint(
                condition=Q(measured_at__gte=EARLIEST) & Q(measured_at__lt=LATEST),
                name="control_result_measured_in_range",
            ),
        ]
        # A lot's history in order (the rules read its latest results; the chart, all).
        indexes = [models.Index(fields=["lot", "measured_at", "id"], name="control_result_history")]

    def __str__(self) -> str:
        return f"{self.lot.code} {reading_of(self.value, None)} {self.units}".strip()


class QcDecisionKind(models.TextChoices):
    RERUN = "rerun", "Run the batch again"
    ACCEPT = "accept", "Accept the run"


@audited
class QcDecision(models.Model):
    """A supervisor's decision on a run rejected by QC, signed (password, with the user id at
    the session's first signing): the manifest is kept here, bound to what was decided."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="qc_decisions")
    decision = models.CharField(max_length=8, choices=QcDecisionKind.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=100)
    decided_at = models.DateTimeField()
    content = models.JSONField()  # exactly what was signed: the run, its rejections, the decision
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="qc_decision_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} (batch {self.batch_id})"


class CallOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "confirmed, read back"
    REACHED = "reached_without_read_back", "reached, without read-back"
    UNREACHED = "unable_to_reach", "unable to reach"
    # Recorded by a correction, not by a person: the value was corrected out of the critical
    # range before anyone was told it, so there is no call to make.
    WITHDRAWN = "withdrawn", "no call: corrected out of the critical range first"


# What a person records as the outcome of a call.
CALLED_OUTCOMES = (CallOutcome.CONFIRMED, CallOutcome.REACHED, CallOutcome.UNREACHED)
# A call with one of these outcomes closes the notification; ``unable_to_reach`` leaves it open.
CLOSING_OUTCOMES = frozenset({CallOutcome.CONFIRMED, CallOutcome.REACHED, CallOutcome.WITHDRAWN})


class NotificationOutcome(models.TextChoices):
    OPEN = "", "open"
    IN_TIME = "in_time", "notified within the SLA"
    LATE = "late", "notified after the SLA"
    WITHDRAWN = "withdrawn", "withdrawn: corrected out of the critical range before a call"


@audited_with("number", "value", "flag", "reason")
class CriticalNotification(models.Model):
    """A critical (panic) value to be called to the person responsible for the patient
    (CLIA 42 CFR 493.1291(g)): opened when the lifecycle (version 4) finds a result beyond its
    assay's critical limits, or a correction makes it so, kept by its own workflow
    (``samples.lifecycle.critical``) until a call closes it. ``number`` 1 is the result's
    first; a correction of a value already called to another critical value opens the next
    (``reason``: the correction's). ``value`` and ``flag``: the value to call, which follows
    the result's corrections while no call has closed it (blank on notifications opened before
    they were recorded: those name the result's value). ``due_at``: the SLA's end
    (``CRITICAL_CALL_SLA_MINUTES`` after it opened); ``escalated_at``: when the supervisors were
    first told no call was recorded in time, ``escalations`` how many times; ``outcome``: closed
    within the SLA or after it, or withdrawn (a correction took the value out of the critical
    range before anyone was told it)."""

    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="notifications")
    number = models.PositiveIntegerField(default=1)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    flag = models.CharField(max_length=2, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="notifications")
    run_id = models.UUIDField(null=True, blank=True)  # its notification workflow's run
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalations = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=NotificationOutcome.choices, default="", blank=True
    )

    class Meta:
        ordering = ["opened_at", "pk"]
        indexes = [models.Index(fields=["closed_at", "opened_at"], name="critical_open_oldest")]
        constraints = [
            models.UniqueConstraint(fields=["result", "number"], name="critical_one_per_number")
        ]

    def __str__(self) -> str:
        return f"critical value notification {self.pk} (result {self.result_id}, {self.number})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def called_value(self) -> Decimal | None:
        """The value it is about: its own, or (opened before notifications recorded it) the
        result's."""
        return self.value if self.value is not None else self.result.value

    @property
    def reading(self) -> str:
        """ "GLU 1.8 mmol/L (LL)": the value it is about, as the lab says it (as a result's
        reading: ``reading_of``)."""
        result = self.result
        shown = reading_of(self.called_value, result.text if self.value is None else None)
        units = f" {result.units or result.assay.units}".rstrip()
        return f"{result.assay.code} {shown}{units} ({self.flag or result.interpretation})"


@audited
class CriticalCall(models.Model):
    """One call about a critical value: to whom (a name, and where or in which role: free
    text), when (given, or now), the value read back, the outcome, and who recorded it."""

    notification = models.ForeignKey(
        CriticalNotification, on_delete=models.PROTECT, related_name="calls"
    )
    called_name = models.CharField(max_length=120)
    called_where = models.CharField(max_length=120, blank=True)
    called_at = models.DateTimeField()
    read_back = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=CallOutcome.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["called_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(called_at__gte=EARLIEST) & Q(called_at__lt=LATEST),
                name="critical_call_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="confirmed") | Q(read_back__isnull=False),
                name="critical_call_confirmed_is_read_back",
            ),
        ]

    def __str__(self) -> str:
        return f"call to {self.called_name} ({self.outcome})"


# The event models ``audited`` makes (django-pghistory, ``samples.tracking``), named here for
# type checkers: they are created with the classes above, in this module.
AssayEvent: Any
InstrumentEvent: Any
SampleEvent: Any
BatchEvent: Any
ResultEvent: Any
InstrumentMessageEvent: Any
UnmatchedResultEvent: Any
RetestEvent: Any
SignatureEvent: Any
ReportEvent: Any
ChainCheckEvent: Any
AuditReviewEvent: Any
DestinationEvent: Any
OutboundMessageEvent: Any
ControlMaterialEvent: Any
ControlLotEvent: Any
BatchControlEvent: Any
ControlResultEvent: Any
QcDecisionEvent: Any
CriticalNotificationEvent: Any
CriticalCallEvent: Any
