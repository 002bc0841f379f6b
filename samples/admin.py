"""Admin-site registrations for lab configuration (administrators only)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from samples.forms import AssayAdminForm
from samples.models import Assay, Instrument


@admin.register(Assay)
class AssayAdmin(admin.ModelAdmin):
    form = AssayAdminForm
    list_display = [
        "code",
        "name",
        "units",
        "reference_low",
        "reference_high",
        "can_be_negative",
        "is_active",
    ]
    search_fields = ["code", "name"]
    list_filter = ["is_active"]


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["name", "model", "serial", "is_active"]
    search_fields = ["name", "serial"]
    filter_horizontal = ["assays"]
    raw_id_fields = ["service_user"]


class NeverDeletedUserAdmin(UserAdmin):
    """Accounts are deactivated, never deleted (the database refuses it too)."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), NeverDeletedUserAdmin)
