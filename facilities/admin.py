from django.contrib import admin

from core.admin import ScopedAdmin

from .models import Counter, Facility, FacilityMembership, Professional


class MembershipInline(admin.TabularInline):
    model = FacilityMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Facility)
class FacilityAdmin(ScopedAdmin):
    list_display = ["name", "facility_id", "status", "hip_active", "district", "facility_type", "created_at"]
    list_filter = ["status", "hip_active", "facility_type", "ownership", "district"]
    search_fields = ["name", "facility_id", "pincode"]
    # The dashboard counters follow a facility's registration, status and district through the services only (see
    # facilities.counting): facilities are registered in the portal, and their district is not changed here.
    # The HFR ID is checked against HFR by the services, and hip_active is what ABDM confirmed: neither is typed here.
    readonly_fields = ["facility_id", "status", "district", "hip_active", "hip_confirmed_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False


@admin.register(Professional)
class ProfessionalAdmin(ScopedAdmin):
    list_display = ["name", "hpr_id", "category", "council", "registration_number", "status", "district"]
    list_filter = ["status", "category", "council", "district"]
    search_fields = ["name", "hpr_id", "registration_number"]
    # As for facilities: professionals register in the portal and are counted at their district by the services.
    readonly_fields = ["hpr_id", "status", "verified_at", "verified_by", "submitted_at", "user", "district"]

    def has_add_permission(self, request):
        return False


@admin.register(Counter)
class CounterAdmin(ScopedAdmin):
    list_display = ["facility", "code", "name", "active"]
    search_fields = ["facility__name", "facility__facility_id", "code"]
