"""Shapes of what clients send. They check types and sizes; the services decide the rest."""

from __future__ import annotations

from rest_framework import serializers

MAX_ITEMS = 500


class ResultItemSerializer(serializers.Serializer):
    sample = serializers.CharField(max_length=64, help_text="The sample's accession barcode.")
    assay = serializers.CharField(max_length=32, help_text="The assay code, e.g. GLU.")
    value = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=False)
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
    measured_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_value(self, value):  # type: ignore[no-untyped-def]
        return str(value)


class AcceptedSerializer(serializers.Serializer):
    result = serializers.IntegerField()
    sample = serializers.CharField()
    assay = serializers.CharField()
    value = serializers.CharField()
    units = serializers.CharField()
    repeated = serializers.BooleanField(help_text="True when this result was recorded before.")


class UnmatchedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Its position in the list sent.")
    inbox = serializers.IntegerField(help_text="Its entry in the unmatched inbox.")
    sample = serializers.CharField()
    assay = serializers.CharField()
    why = serializers.CharField()


class ResultsAnswerSerializer(serializers.Serializer):
    accepted = AcceptedSerializer(many=True)
    unmatched = UnmatchedSerializer(many=True)
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
