from django.contrib import admin

from core.admin import ScopedAdmin

from .models import Counter, Facility, FacilityMembership, Professional


class MembershipInline(admin.TabularInline):
    model = FacilityMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Facility)
class FacilityAdmin(ScopedAdmin):
    list_display = ["name", "facility_id", "status", "district", "facility_type", "created_at"]
    list_filter = ["status", "facility_type", "ownership", "district"]
    search_fields = ["name", "facility_id", "pincode"]
    readonly_fields = ["facility_id", "status"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The dashboard counters follow a facility's status and district through the services only (see
        # facilities.counting): an existing facility's district is not changed here, whoever signs in.
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "district"] if obj is not None else fields


@admin.register(Professional)
class ProfessionalAdmin(ScopedAdmin):
    list_display = ["name", "hpr_id", "category", "council", "registration_number", "status", "district"]
    list_filter = ["status", "category", "council", "district"]
    search_fields = ["name", "hpr_id", "registration_number"]
    readonly_fields = ["hpr_id", "status", "verified_at", "verified_by", "submitted_at", "user"]

    def get_readonly_fields(self, request, obj=None):
        # As for facilities: verified professionals are counted at their district by the services only.
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "district"] if obj is not None else fields


@admin.register(Counter)
class CounterAdmin(ScopedAdmin):
    list_display = ["facility", "code", "name", "active"]
    search_fields = ["facility__name", "facility__facility_id", "code"]
