"""Admin: metadata of records and consents for review, scoped like the rest of the portal.

No bundles are shown (health data is read only through the audited services), nothing is added,
changed or deleted here: records get versions and consents statuses through the services.
"""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ScopedAdmin

from .models import BreakGlassGrant, CareContext, ConsentArtefact, ConsentRequest, HealthRecord
from .services import btg_review


class ReadOnlyScopedAdmin(ScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CareContext)
class CareContextAdmin(ReadOnlyScopedAdmin):
    list_display = ["reference", "display", "facility", "date", "created_at"]
    list_filter = ["date"]
    search_fields = ["reference"]
    fields = ["reference", "display", "facility", "patient", "date", "created_by", "created_at"]


@admin.register(HealthRecord)
class HealthRecordAdmin(ReadOnlyScopedAdmin):
    list_display = ["uuid", "hi_type", "facility", "record_date", "version", "is_current"]
    list_filter = ["hi_type", "is_current"]
    fields = ["uuid", "care_context", "facility", "hi_type", "record_key", "record_date", "version", "is_current"]


@admin.register(ConsentRequest)
class ConsentRequestAdmin(ReadOnlyScopedAdmin):
    list_display = ["uuid", "purpose", "patient_address", "requester", "requester_facility", "status", "created_at"]
    list_filter = ["status", "purpose"]


@admin.register(ConsentArtefact)
class ConsentArtefactAdmin(ReadOnlyScopedAdmin):
    list_display = ["uuid", "source_facility", "requester_facility", "status", "data_erase_at"]
    list_filter = ["status"]


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyScopedAdmin):
    """State officials review every emergency access: who, where, whose records, why."""

    list_display = [
        "created_at",
        "needs_review",
        "doctor",
        "facility",
        "patient",
        "reason",
        "expires_at",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter), "facility"]
    search_fields = ["reason"]
    date_hierarchy = "created_at"
    actions = ["mark_reviewed"]

    @admin.display(description=gettext_lazy("Needs review"), boolean=True, ordering="reviewed_at")
    def needs_review(self, grant):
        return grant.needs_review

    @admin.action(description=gettext_lazy("Mark as reviewed"))
    def mark_reviewed(self, request, queryset):
        reviewed = sum(btg_review(actor=request.user, grant=grant, request=request) for grant in queryset)
        self.message_user(request, _("Emergency accesses marked as reviewed: %(count)s.") % {"count": reviewed})
