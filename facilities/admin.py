from django.contrib import admin

from core.admin import ScopedAdmin

from .models import Facility, FacilityMembership


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
