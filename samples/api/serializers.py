"""Shapes of what clients send. They check types and sizes; the services decide the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from samples.errors import LabError
from samples.models import (
    TERMINAL_STATES,
    Batch,
    Priority,
    Report,
    Result,
    ResultKind,
    Retest,
    Sample,
    SpecimenType,
)
from samples.selectors.waits import run_words
from samples.values import bounds
from workflows.api import get_run

MAX_ITEMS = 500


MAX_TEXT = 200  # a value sent as text: no assay's answer is longer than 64 characters


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": r"^-?\d{0,10}(?:\.\d{0,4})?$"},
            {
                "type": "string",
                "maxLength": MAX_TEXT,
                "description": "An answer of a qualitative assay, e.g. Positive.",
            },
            {
                "type": "number",
                "minimum": -1e10,
                "maximum": 1e10,
                "exclusiveMinimum": True,
                "exclusiveMaximum": True,
            },
        ],
        "description": "For a quantitative assay a number, in a string (preferred: kept "
        "exactly as sent) or not: at most 10 digits before the decimal point and 4 after. For "
        "a qualitative assay one of its answers, as text (case and surrounding blanks do not "
        "matter).",
    }
)
class MeasuredValueField(serializers.DecimalField):
    """A value sent as text is read only as ASCII digits (``samples.values.bounds.number``):
    Python's ``Decimal`` alone would also take "1_000" or Arabic-Indic digits. A text that is
    no number (a string without a digit: "Positive") goes to the service as it is, which takes
    it for a qualitative assay and refuses it for a quantitative one; anything else that is no
    number (a list, an object, ``true``, a string with a digit that is no number) is refused
    here."""

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        if isinstance(data, str):
            if len(data) > MAX_TEXT:
                raise serializers.ValidationError(
                    f"Ensure this value has no more than {MAX_TEXT} characters."
                )
            if data.strip() and not any(ch.isdigit() for ch in data):
                return data
            try:
                bounds.number(data)
            except LabError as refusal:
                raise serializers.ValidationError(refusal.message) from None
        return super().to_internal_value(data)


class MomentField(serializers.DateTimeField):
    """A time within the accepted range (``samples.values.bounds.moment``): its offset checked as
    sent (at most ±14:00), before it is read in the lab's time zone."""

    def __init__(self, *, what: str, ahead_taken: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.what, self.ahead_taken = what, ahead_taken

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                bounds.ascii_time(value, field="", what=self.what)
            except LabError as refusal:
                raise serializers.ValidationError(refusal.message) from None
        return super().to_internal_value(value)

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            if timezone.is_aware(value):
                bounds.moment(value, field="", what=self.what, ahead_taken=self.ahead_taken)
            local = super().enforce_timezone(value)
            return bounds.moment(local, field="", what=self.what, ahead_taken=self.ahead_taken)
        except LabError as refusal:
            raise serializers.ValidationError(refusal.message) from None


class ResultItemSerializer(serializers.Serializer):
    sample = serializers.CharField(
        max_length=64,
        help_text="The sample's accession barcode, or a control lot's code for a control result.",
    )
    assay = serializers.CharField(max_length=32, help_text="The assay code, e.g. GLU.")
    value = MeasuredValueField(max_digits=14, decimal_places=4, coerce_to_string=False)
    units = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    flags = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=20
    )
    run_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The instrument's run: a result re-sent with the same run is recorded once.",
    )
    measured_at = MomentField(
        what="the measurement time",
        ahead_taken=True,  # an instrument's clock ahead: recorded, and flagged for review
        required=False,
        allow_null=True,
        default=None,
        help_text="Before the sample's collection or ahead of the server's clock (beyond "
        "CLOCK_SKEW_MINUTES), the result is recorded and flagged for review (`time_flag`).",
    )

    def validate_value(self, value):  # type: ignore[no-untyped-def]
        return str(value)


class AcceptedSerializer(serializers.Serializer):
    result = serializers.IntegerField()
    sample = serializers.CharField()
    assay = serializers.CharField()
    value = serializers.CharField()
    units = serializers.CharField()
    repeated = serializers.BooleanField(help_text="True when this result was recorded before.")


class ResultsConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    first_message = serializers.IntegerField(
        help_text="The message that was taken with this key first."
    )


class UnmatchedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Its position in the list sent.")
    inbox = serializers.IntegerField(help_text="Its entry in the unmatched inbox.")
    sample = serializers.CharField()
    assay = serializers.CharField()
    why = serializers.CharField()


class ControlAcceptedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Its position in the list sent.")
    control_result = serializers.IntegerField()
    control = serializers.CharField(help_text="The control lot's code, sent as its sample.")
    assay = serializers.CharField()
    value = serializers.CharField()
    units = serializers.CharField()
    batch = serializers.IntegerField(help_text="The running batch whose control it is.")
    verdict = serializers.ChoiceField(choices=["in_control", "warning", "rejected"])
    rules = serializers.ListField(
        child=serializers.CharField(), help_text='The Westgard rules broken, e.g. ["1-2s"].'
    )
    repeated = serializers.BooleanField(help_text="True when this result was recorded before.")


class ResultsAnswerSerializer(serializers.Serializer):
    accepted = AcceptedSerializer(many=True)
    unmatched = UnmatchedSerializer(many=True)
    controls = ControlAcceptedSerializer(
        many=True,
        required=False,
        help_text="Present when the message carried control results (a sample that is a "
        "control lot's code).",
    )
    replayed = serializers.BooleanField(
        required=False, help_text="Present when an Idempotency-Key repeated an earlier message."
    )


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField()
    error = serializers.CharField()


class ResultsRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ItemErrorSerializer(many=True)


class SampleRegisterSerializer(serializers.Serializer):
    barcode = serializers.CharField(max_length=32)
    specimen_type = serializers.ChoiceField(choices=SpecimenType.choices)
    subject_ref = serializers.CharField(max_length=64)
    collected_at = MomentField(what="the collection time")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    assays = serializers.ListField(
        child=serializers.CharField(max_length=16), min_length=1, max_length=50
    )


class ResultOutSerializer(serializers.ModelSerializer):
    assay = serializers.CharField(source="assay.code")
    value = serializers.SerializerMethodField(
        help_text="The number as a string with its 4 decimal places (a quantitative assay), "
        "or the answer (a qualitative assay, e.g. Positive)."
    )
    kind = serializers.SerializerMethodField(
        help_text="Whether `value` is a number (`quantitative`) or an answer (`qualitative`)."
    )
    source = serializers.SerializerMethodField()
    superseded_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    time_flag = serializers.CharField(
        help_text="Why its measurement time cannot be right (before the sample's collection, "
        "or later than it was received), for the reviewer to check before release; empty when "
        "it can be."
    )

    class Meta:
        model = Result
        fields = [
            "id",
            "assay",
            "kind",
            "value",
            "units",
            "flags",
            "interpretation",
            "source",
            "measured_at",
            "recorded_at",
            "superseded_by",
            "time_flag",
        ]

    def get_kind(self, result: Result) -> str:
        return ResultKind.QUALITATIVE if result.text is not None else ResultKind.QUANTITATIVE

    def get_value(self, result: Result) -> str:
        return result.text if result.text is not None else str(result.value)

    def get_source(self, result: Result) -> str:
        if result.instrument is not None:
            return f"instrument {result.instrument.name}"
        return f"user {result.entered_by.get_username()}" if result.entered_by else ""


class SampleOutSerializer(serializers.ModelSerializer):
    assays = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Sample
        fields = [
            "barcode",
            "state",
            "state_label",
            "specimen_type",
            "subject_ref",
            "priority",
            "collected_at",
            "received_at",
            "receipt_condition",
            "rejection_reason",
            "assays",
            "registered_at",
            "released_at",
        ]


class RetestOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Retest
        fields = ["original", "new_result", "reason", "requested_at"]


class ReportOutSerializer(serializers.ModelSerializer):
    replaces = serializers.SerializerMethodField(
        help_text="The number of the report a corrected one replaces (null for the original)."
    )
    url = serializers.SerializerMethodField(help_text="Where its PDF is served, as released.")

    class Meta:
        model = Report
        fields = ["number", "kind", "replaces", "created_at", "sha256", "url"]

    def get_replaces(self, report: Report) -> int | None:
        return report.replaces.number if report.replaces else None

    def get_url(self, report: Report) -> str:
        return reverse(
            "samples:report_version_pdf",
            kwargs={"barcode": report.sample.barcode, "number": report.number},
        )


class HistoryEventSerializer(serializers.Serializer):
    run = serializers.UUIDField(
        help_text="The workflow run the event belongs to (a sample restarted from a step has "
        "several); `seq` numbers the events within it."
    )
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    reason = serializers.CharField()
    data = serializers.JSONField()


class SampleDetailSerializer(SampleOutSerializer):
    results = ResultOutSerializer(many=True, read_only=True)
    retests = serializers.SerializerMethodField()
    waiting_for = serializers.SerializerMethodField()
    reports = serializers.SerializerMethodField()

    class Meta(SampleOutSerializer.Meta):
        fields = [
            *SampleOutSerializer.Meta.fields,
            "results",
            "retests",
            "waiting_for",
            "reports",
        ]

    @extend_schema_field(ReportOutSerializer(many=True))
    def get_reports(self, sample: Sample) -> list[dict[str, object]]:
        """Every report, the original first, then each corrected one."""
        reports = (
            Report.objects.filter(sample=sample)
            .defer("pdf")
            .select_related("sample", "replaces")
            .order_by("number")
        )
        return ReportOutSerializer(reports, many=True).data  # type: ignore[return-value]

    @extend_schema_field(RetestOutSerializer(many=True))
    def get_retests(self, sample: Sample) -> list[dict[str, object]]:
        retests = Retest.objects.filter(original__sample=sample).order_by("requested_at")
        return RetestOutSerializer(retests, many=True).data  # type: ignore[return-value]

    def get_waiting_for(self, sample: Sample) -> str:
        """What the sample's lifecycle waits for, in the lab's words (as on its card)."""
        if sample.run_id is None or sample.state in TERMINAL_STATES:
            return ""
        return run_words(get_run(str(sample.run_id), history=False))


class PositionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    sample = serializers.CharField()


class BatchOutSerializer(serializers.ModelSerializer):
    assay = serializers.CharField(source="assay.code")
    positions = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id",
            "assay",
            "status",
            "capacity",
            "opened_at",
            "closed_at",
            "run_started_at",
            "completed_at",
            "positions",
        ]

    @extend_schema_field(PositionSerializer(many=True))
    def get_positions(self, batch: Batch) -> list[dict[str, object]]:
        return [
            {"position": m.position, "sample": m.sample.barcode}
            for m in batch.members.select_related("sample").order_by("position")
        ]


class InboxMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="`results` (JSON) or `hl7`.")
    door = serializers.CharField(help_text="`http` or `mllp`.")
    received_at = serializers.DateTimeField()
    idempotency_key = serializers.CharField(
        allow_null=True, help_text="Its `Idempotency-Key` header, or an HL7 message's MSH-10."
    )
    sha256 = serializers.CharField(help_text="Of the bytes received.")


class InboxResolutionSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=["matched", "discarded"], source="resolution")
    at = serializers.DateTimeField(source="resolved_at")
    by = serializers.CharField(source="resolved_by.get_username")
    reason = serializers.CharField(source="resolution_reason")
    result = serializers.IntegerField(
        source="result_id", allow_null=True, help_text="The result recorded when matched."
    )


class InboxEntrySerializer(serializers.Serializer):
    """An unmatched inbox entry: the result as sent, why it matched no waiting sample, the
    message it came from, and how it was resolved (null while open)."""

    id = serializers.IntegerField()
    why = serializers.CharField()
    instrument = serializers.CharField(source="instrument.name")
    message = InboxMessageSerializer()
    received_at = serializers.DateTimeField()
    sample = serializers.CharField(source="barcode", help_text="The barcode as sent.")
    assay = serializers.CharField(source="assay_code", help_text="The assay code as sent.")
    value = serializers.CharField(help_text="The value as sent.")
    units = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    run_id = serializers.CharField()
    measured_at = serializers.DateTimeField(allow_null=True)
    segment = serializers.CharField(
        help_text="The OBX as received, for a result that came in HL7 (else empty)."
    )
    resolution = serializers.SerializerMethodField()

    @extend_schema_field(InboxResolutionSerializer(allow_null=True))
    def get_resolution(self, entry: Any) -> dict[str, Any] | None:
        if entry.resolved_at is None:
            return None
        return InboxResolutionSerializer(entry).data  # type: ignore[return-value]
