from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import access
from .forms import AdminLoginForm
from .models import AuditEvent, District, PopulationFigure, State, User
from .services import population_set

admin.site.login_form = AdminLoginForm  # the same sign-in lockout as the portal's login page


class ScopedAdmin(admin.ModelAdmin):
    """Admin whose rows and permissions come from core.access, like the rest of the portal."""

    def get_queryset(self, request):
        return access.scope(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return access.can(request.user, "view", self.model)

    def has_view_permission(self, request, obj=None):
        return access.can(request.user, "view", obj or self.model)

    def has_add_permission(self, request):
        return access.can(request.user, "add", self.model)

    def has_change_permission(self, request, obj=None):
        return access.can(request.user, "change", obj or self.model)

    def has_delete_permission(self, request, obj=None):
        return access.can(request.user, "delete", obj or self.model)


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "districts"]
    fieldsets = DjangoUserAdmin.fieldsets + (("Portal", {"fields": ("role", "mobile", "districts")}),)
    filter_horizontal = ["districts"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        # Only a superuser hands out superuser/staff flags or raw Django permissions.
        return ("is_superuser", "is_staff", "user_permissions", "groups", "last_login", "date_joined")


@admin.register(State)
class StateAdmin(ScopedAdmin):
    list_display = ["lgd_code", "name"]
    search_fields = ["name"]


@admin.register(District)
class DistrictAdmin(ScopedAdmin):
    list_display = ["lgd_code", "name", "name_gu", "name_hi", "state"]
    list_filter = ["state"]
    search_fields = ["name", "name_gu", "name_hi"]


@admin.register(PopulationFigure)
class PopulationFigureAdmin(ScopedAdmin):
    list_display = ["state", "district", "year", "population", "source"]
    list_filter = ["year", "state"]
    autocomplete_fields = ["district"]
    fields = ["state", "district", "year", "population", "source"]

    def get_readonly_fields(self, request, obj=None):
        # A figure is identified by place and year; changing those means adding a new figure.
        return ["state", "district", "year"] if obj else []

    def save_model(self, request, obj, form, change):
        # Through the service, so every change is audited.
        saved = population_set(
            actor=request.user,
            state=obj.state,
            district=obj.district,
            year=obj.year,
            population=obj.population,
            source=obj.source,
            request=request,
        )
        obj.pk = saved.pk


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ["at", "actor_label", "action", "target_type", "target_label", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "action", "target_id", "target_label"]
    date_hierarchy = "at"

    # Append-only: nobody adds, changes or deletes audit rows through the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
