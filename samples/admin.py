"""Admin-site registrations for lab configuration (administrators only).

Every change made here is in the audit trail with the administrator as actor (the database's
triggers, ``samples.tracking``): accounts (superuser flag, new passwords, roles), instruments,
assays, the destinations released results are sent to, and quality control's materials and
lots (a lot's SD above 0, its code in capitals, never a sample's barcode, its assay quantitative
and run by its instrument). A person's username and an
instrument's name may not be the same (case-insensitive), so that the trail never takes one
for the other.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest

from samples.errors import LabError
from samples.forms import AssayAdminForm
from samples.models import Assay, ControlLot, ControlMaterial, Destination, Instrument, Sample
from samples.services.accounts import instrument_name_check, username_check
from samples.values.codes import code_clean


@admin.register(Assay)
class AssayAdmin(admin.ModelAdmin):
    form = AssayAdminForm
    list_display = [
        "code",
        "name",
        "kind",
        "units",
        "reference_low",
        "reference_high",
        "can_be_negative",
        "is_active",
    ]
    search_fields = ["code", "name"]
    list_filter = ["is_active", "kind"]


class InstrumentForm(forms.ModelForm):
    class Meta:
        model = Instrument
        fields = ["name", "model", "serial", "assays", "service_user", "is_active"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            instrument_name_check(name, instrument=self.instance if self.instance.pk else None)
        except LabError as refusal:
            raise forms.ValidationError(refusal.message) from refusal
        return name


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    form = InstrumentForm
    list_display = ["name", "model", "serial", "is_active"]
    search_fields = ["name", "serial"]
    filter_horizontal = ["assays"]
    raw_id_fields = ["service_user"]


class DestinationForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https", max_length=500)

    class Meta:
        model = Destination
        fields = ["name", "protocol", "host", "port", "url", "is_active"]


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    """Where released results go (``samples.services.outbox``): an MLLP host and port or an
    HTTP URL. Deactivate one rather than delete it: its messages keep naming it."""

    form = DestinationForm
    list_display = ["name", "protocol", "address", "is_active"]
    list_filter = ["protocol", "is_active"]
    search_fields = ["name", "host", "url"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class _UsernameNotAnInstrument:
    """A form's username check: no instrument has that name."""

    def clean_username(self) -> str:
        parent = getattr(super(), "clean_username", None)  # the creation form has one
        username = parent() if parent else self.cleaned_data["username"]  # type: ignore[attr-defined]
        instance = getattr(self, "instance", None)
        try:
            username_check(username, user=instance if instance and instance.pk else None)
        except LabError as refusal:
            raise forms.ValidationError(refusal.message) from refusal
        return username


class AccountCreationForm(_UsernameNotAnInstrument, AdminUserCreationForm):
    pass


class AccountChangeForm(_UsernameNotAnInstrument, UserChangeForm):
    pass


@admin.register(ControlMaterial)
class ControlMaterialAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "manufacturer"]
    search_fields = ["name", "manufacturer"]


class ControlLotForm(forms.ModelForm):
    class Meta:
        model = ControlLot
        fields = [
            "material",
            "lot_number",
            "assay",
            "instrument",
            "code",
            "target_mean",
            "target_sd",
            "expires_on",
            "is_active",
        ]
        help_texts = {
            "code": "What the instrument sends in place of a sample's barcode for this control, "
            "e.g. QC-GLU-1-24051.",
            "target_sd": "Above 0: the Westgard rules count in it.",
        }

    def clean_code(self) -> str:
        code = code_clean(self.cleaned_data["code"])
        if Sample.objects.filter(barcode=code).exists():
            raise forms.ValidationError(
                f"{code} is a sample's barcode: a control's code must never be one."
            )
        return code

    def clean_target_sd(self) -> object:
        sd = self.cleaned_data["target_sd"]
        if sd is not None and sd <= 0:
            raise forms.ValidationError("The SD must be above 0.")
        return sd

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        assay, instrument = cleaned.get("assay"), cleaned.get("instrument")
        if isinstance(assay, Assay) and assay.is_qualitative:
            self.add_error("assay", f"{assay.code} is qualitative: controls here take numbers.")
        elif (
            isinstance(assay, Assay)
            and isinstance(instrument, Instrument)
            and not instrument.assays.filter(pk=assay.pk).exists()
        ):
            self.add_error(
                "instrument", f"{instrument.name} is not configured to run {assay.code}."
            )
        return cleaned


@admin.register(ControlLot)
class ControlLotAdmin(admin.ModelAdmin):
    """A control lot per assay and instrument with its target mean and SD. Deactivate one
    rather than delete it: its results keep naming it."""

    form = ControlLotForm
    list_display = [
        "code",
        "material",
        "assay",
        "instrument",
        "target_mean",
        "target_sd",
        "expires_on",
        "is_active",
    ]
    list_filter = ["is_active", "assay", "instrument"]
    search_fields = ["code", "lot_number"]


class NeverDeletedUserAdmin(UserAdmin):
    """Accounts are deactivated, never deleted (the database refuses it too)."""

    add_form = AccountCreationForm
    form = AccountChangeForm

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), NeverDeletedUserAdmin)
