from django.contrib import admin

from core.admin import ScopedAdmin
from core.services import audit_record

from .models import Microsite, Milestone


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    readonly_fields = ["achieved_at"]


@admin.register(Microsite)
class MicrositeAdmin(ScopedAdmin):
    list_display = ["name", "category", "agency", "start_date", "deadline"]
    list_filter = ["category", "districts"]
    search_fields = ["name", "agency"]
    filter_horizontal = ["districts"]
    raw_id_fields = ["included_facilities", "excluded_facilities"]
    inlines = [MilestoneInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="microsite.admin_change" if change else "microsite.create",
            target=obj,
            request=request,
        )
