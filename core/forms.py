from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .exceptions import LockedOut


class LockoutMixin:
    """Refuses sign-in while the username or the caller's IP is locked out; counts wrong passwords."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # required-field errors; nothing was tried
        try:
            services.login_lockout_check(username=username, request=self.request)
        except LockedOut as error:
            raise ValidationError(error.message, code=error.code) from None
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                services.login_failure_record(username=username, request=self.request)
            raise
        services.login_success_record(username=username, request=self.request)
        return cleaned


class StaffLoginForm(LockoutMixin, AuthenticationForm):
    """Django's login form with labels and errors in the portal's own translations."""

    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": _("The username or password is not correct."),
        "inactive": _("This account is not active. Ask your administrator."),
    }


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's own sign-in page, under the same lockout as the portal's."""
