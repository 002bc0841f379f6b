"""Admin-site registrations for lab configuration (administrators only).

Every change made here is in the audit trail with the administrator as actor (the database's
triggers, ``samples.tracking``): accounts (superuser flag, new passwords, roles), instruments,
assays and the destinations released results are sent to. A person's username and an
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
from samples.models import Assay, Destination, Instrument
from samples.services.accounts import instrument_name_check, username_check


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


class NeverDeletedUserAdmin(UserAdmin):
    """Accounts are deactivated, never deleted (the database refuses it too)."""

    add_form = AccountCreationForm
    form = AccountChangeForm

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), NeverDeletedUserAdmin)
