"""Forms of the lab pages: they parse what a person typed; the services decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from samples.models import Assay, Priority, SpecimenType


class SampleForm(forms.Form):
    template_name_div = "samples/_form_fields.html"

    barcode = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"autofocus": True}))
    specimen_type = forms.ChoiceField(choices=SpecimenType.choices)
    subject_ref = forms.CharField(
        label="Subject reference", max_length=64, help_text="Anonymised: never a name."
    )
    collected_at = forms.DateTimeField(
        label="Collected at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.ROUTINE)
    assays = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's picker sends a time without a zone: it is read on the lab's clock.
        zone = timezone.get_current_timezone_name()
        self.fields["collected_at"].help_text = f"Lab time ({zone}); pages show it in UTC."
        self.fields["assays"].choices = [
            (a.code, f"{a.code} ({a.name})") for a in Assay.objects.filter(is_active=True)
        ]


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
