"""Forms of the lab pages: they parse what a person typed; the services decide what is valid.
Times and numbers are read in ASCII digits only (``samples.values.bounds``): Django alone also reads
other scripts' digits and ``1_000``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from samples.errors import LabError
from samples.models import Assay, Priority, ResultKind, SpecimenType
from samples.values import bounds
from samples.values.answers import Answer, answers_checked


class LabDateTimeField(forms.DateTimeField):
    """A time typed in ASCII digits (its range is the service's to check)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                bounds.ascii_time(value, field="", what="the time")
            except LabError as refusal:
                raise forms.ValidationError(refusal.message) from None
        return super().to_python(value)


class SampleForm(forms.Form):
    template_name_div = "samples/_form_fields.html"

    barcode = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"autofocus": True}))
    specimen_type = forms.ChoiceField(choices=SpecimenType.choices)
    subject_ref = forms.CharField(
        label="Subject reference", max_length=64, help_text="Anonymised: never a name."
    )
    collected_at = LabDateTimeField(
        label="Collected at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.ROUTINE)
    assays = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's picker sends a time without a zone: it is read on the lab's clock.
        zone = timezone.get_current_timezone_name()
        self.fields["collected_at"].help_text = f"Lab time ({zone}); pages show it in UTC."
        self.fields["assays"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (a.code, f"{a.code} ({a.name})") for a in Assay.objects.filter(is_active=True)
        ]


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")


def _answer_lines(answers: list[dict[str, Any]], *, abnormal: bool) -> str:
    return "\n".join(a["text"] for a in answers if bool(a["abnormal"]) == abnormal)


class AssayAdminForm(forms.ModelForm):
    """An assay as the admin site edits it: its numbers in ASCII digits (``samples.values.bounds``),
    and no negative limit for an assay whose results cannot be negative. A qualitative assay
    takes its answers, one a line, normal and abnormal apart (``samples.values.answers``), and
    has no units, ranges or limits; a quantitative one has units and no answers."""

    normal_answers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Qualitative assays: the answers that are normal, one a line (Negative).",
    )
    abnormal_answers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Qualitative assays: the answers flagged abnormal (A), one a line (Positive).",
    )

    class Meta:
        model = Assay
        fields = [
            "code",
            "name",
            "kind",
            "units",
            "reference_low",
            "reference_high",
            "critical_low",
            "critical_high",
            "can_be_negative",
            "batch_capacity",
            "batch_close_after",
            "stability_hours",
            "max_retests",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False  # quantitative unless said
        answers = self.instance.answers or []
        self.fields["normal_answers"].initial = _answer_lines(answers, abnormal=False)
        self.fields["abnormal_answers"].initial = _answer_lines(answers, abnormal=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._kind(cleaned)
        for name, field in self.fields.items():
            raw = self.data.get(self.add_prefix(name), "")
            if not isinstance(raw, str) or not raw.strip():
                continue
            if isinstance(field, forms.DecimalField):
                self._number(name, bounds.number, raw)
            elif isinstance(field, forms.IntegerField):
                self._number(name, bounds.whole_number, raw)
            elif isinstance(field, forms.DurationField) and (not raw.isascii() or "_" in raw):
                self.add_error(name, "Write the duration in the digits 0 to 9, like 02:00:00.")
        if not cleaned.get("can_be_negative"):
            for name in ("reference_low", "reference_high", "critical_low", "critical_high"):
                limit = cleaned.get(name)
                if limit is not None and limit < 0:
                    self.add_error(
                        name, "Below 0: tick “can be negative” if results of this assay can be."
                    )
        return cleaned

    def _kind(self, cleaned: dict[str, Any]) -> None:
        """The answers of a qualitative assay (kept on the instance), or none for the other."""
        cleaned["kind"] = cleaned.get("kind") or ResultKind.QUANTITATIVE
        lines = [
            Answer(line, abnormal)
            for name, abnormal in (("normal_answers", False), ("abnormal_answers", True))
            for line in (cleaned.get(name) or "").splitlines()
            if line.strip()
        ]
        if cleaned.get("kind") != ResultKind.QUALITATIVE:
            self.instance.answers = []
            if lines:
                self.add_error("kind", "Only a qualitative assay takes answers.")
            if not (cleaned.get("units") or "").strip():
                self.add_error("units", "A quantitative assay needs its units.")
            return
        try:
            self.instance.answers = answers_checked(lines)
        except LabError as refusal:
            self.add_error("normal_answers", refusal.message)
        for name in ("reference_low", "reference_high", "critical_low", "critical_high"):
            if cleaned.get(name) is not None:
                self.add_error(name, "A qualitative assay has no ranges: its answers say.")

    def _number(self, name: str, read: Any, raw: str) -> None:
        try:
            accepted = read(raw)
        except LabError as refusal:
            self.add_error(name, refusal.message)
            return
        if accepted is None:
            self.add_error(name, "Write a whole number in the digits 0 to 9, like 24.")
