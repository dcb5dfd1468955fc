from django.contrib import admin

from core.admin import ScopedAdmin

from .models import AbhaAccount, AbhaAddress


class AbhaAddressInline(admin.TabularInline):
    model = AbhaAddress
    extra = 0
    fields = ["local", "is_primary", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AbhaAccount)
class AbhaAccountAdmin(ScopedAdmin):
    """Read-only for officials: accounts change only through the citizen's own services."""

    list_display = ["abha_number_display", "full_name", "district", "channel", "status", "created_at"]
    list_filter = ["status", "channel", "district"]
    search_fields = ["abha_number", "addresses__local"]
    inlines = [AbhaAddressInline]
    exclude = ["abdm_token", "abdm_refresh_token"]
    readonly_fields = [
        "user", "abha_number", "status", "first_name", "middle_name", "last_name", "gender", "year_of_birth",
        "month_of_birth", "day_of_birth", "mobile", "email", "state", "district", "address", "pincode",
        "consent_version", "channel", "assisted_by", "assisted_facility", "deactivated_at",
        "deleted_at",
    ]  # fmt: skip
    show_full_result_count = False  # no COUNT(*) over crores of rows on every page

    def has_change_permission(self, request, obj=None):
        return False
