from rest_framework.permissions import SAFE_METHODS, BasePermission

from core import access


class ObjectAccess(BasePermission):
    """Asks core.access about the object: `view` for reads, the view's `write_action` for writes."""

    def has_object_permission(self, request, view, obj):
        action = "view" if request.method in SAFE_METHODS else getattr(view, "write_action", "change")
        return access.can(request.user, action, obj)
