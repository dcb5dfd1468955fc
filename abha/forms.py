"""Forms of the enrollment wizard and citizen sign-in.

They only collect and type the input; the rules (and their messages) live in abha.services so
the pages and the API refuse exactly the same things.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.models import District, State

from .enums import Gender

MONTHS = [
    ("", _("Month (optional)")),
    (1, _("January")),
    (2, _("February")),
    (3, _("March")),
    (4, _("April")),
    (5, _("May")),
    (6, _("June")),
    (7, _("July")),
    (8, _("August")),
    (9, _("September")),
    (10, _("October")),
    (11, _("November")),
    (12, _("December")),
]


def _numeric(attrs=None, **extra):
    return forms.TextInput(attrs={"inputmode": "numeric", **(attrs or {}), **extra})


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the text above and I agree."),
        error_messages={"required": _("Tick the box to agree before you continue.")},
    )


class MobileForm(forms.Form):
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("We send a 6-digit OTP to this number. One number may hold up to 6 ABHAs, for a family."),
        widget=_numeric(autocomplete="tel-national", autofocus=True),
        error_messages={"required": _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9.")},
    )


class OtpForm(forms.Form):
    otp = forms.CharField(
        label=_("OTP"),
        max_length=6,
        widget=_numeric(autocomplete="one-time-code", autofocus=True, maxlength=6),
        error_messages={"required": _("Enter the 6-digit OTP.")},
    )


class DetailsForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Middle name (optional)"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name (optional)"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, widget=forms.RadioSelect, required=False)
    year_of_birth = forms.CharField(
        label=_("Year of birth"), max_length=4, required=False, widget=_numeric(placeholder="1990", maxlength=4)
    )
    month_of_birth = forms.TypedChoiceField(
        label=_("Month of birth (optional)"), choices=MONTHS, required=False, coerce=int, empty_value=None
    )
    day_of_birth = forms.TypedChoiceField(
        label=_("Day of birth (optional)"),
        choices=[("", _("Day (optional)"))] + [(d, d) for d in range(1, 32)],
        required=False,
        coerce=int,
        empty_value=None,
    )
    state_lgd = forms.TypedChoiceField(label=_("State"), coerce=int, required=False)
    district_lgd = forms.TypedChoiceField(label=_("District"), coerce=int, required=False)
    address = forms.CharField(
        label=_("Address (optional)"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    pincode = forms.CharField(label=_("Pincode (optional)"), max_length=6, required=False, widget=_numeric(maxlength=6))
    email = forms.CharField(
        label=_("Email (optional)"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    aadhaar = forms.CharField(
        label=_("Aadhaar number (optional)"),
        max_length=14,
        required=False,
        help_text=_("Used only to check that you do not already have an ABHA. We never store the number."),
        widget=_numeric(autocomplete="off", maxlength=14),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        states = State.objects.filter(districts__isnull=False).distinct()
        self.fields["state_lgd"].choices = [(s.lgd_code, s.local_name) for s in states]
        self.fields["state_lgd"].initial = settings.PORTAL_STATE_LGD
        districts = District.objects.order_by("name")
        self.fields["district_lgd"].choices = [("", _("Choose your district"))] + [
            (d.lgd_code, d.local_name) for d in districts
        ]

    def clean_aadhaar(self):
        # Digits and spaces only reach the service; it validates and hashes.
        return "".join(ch for ch in self.cleaned_data["aadhaar"] if ch.isdecimal() or ch.isalpha())


class AddressForm(forms.Form):
    choice = forms.CharField(required=False)
    custom = forms.CharField(
        label=_("Or type your own"),
        max_length=40,
        required=False,
        help_text=_("8 to 18 English letters or digits; at most one dot and one underscore, not at the start or end."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def __init__(self, data=None, *args, **kwargs):
        # A typed address picks "Type your own" (the page's script does it as the citizen types; without
        # JavaScript nothing does), so the citizen never gets another address than the one typed.
        if data is not None and str(data.get("custom", "")).strip():
            data = data.copy()
            data["choice"] = "custom"
        super().__init__(data, *args, **kwargs)

    def clean(self):
        data = super().clean()
        data["custom"] = (data.get("custom") or "").strip()
        if data.get("choice") == "custom" and not data["custom"]:
            self.add_error("custom", _("Type the ABHA address you want, or pick one of the other options."))
        return data


class SignInForm(forms.Form):
    login_id = forms.CharField(
        label=_("ABHA number, ABHA address or mobile number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "autocapitalize": "none"}),
        error_messages={"required": _("Enter your ABHA number, ABHA address or mobile number.")},
    )


class ChooseAccountForm(forms.Form):
    abha_number = forms.ChoiceField(label=_("Which ABHA?"), widget=forms.RadioSelect)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["abha_number"].choices = [
            (a.abha_number, f"{a.full_name} · {a.abha_number_display}") for a in accounts
        ]


class ContactForm(forms.Form):
    address = forms.CharField(
        label=_("Address (optional)"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    pincode = forms.CharField(label=_("Pincode (optional)"), max_length=6, required=False, widget=_numeric(maxlength=6))
    email = forms.CharField(
        label=_("Email (optional)"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class NewAddressForm(forms.Form):
    abha_address = forms.CharField(
        label=_("New ABHA address"),
        max_length=40,
        help_text=_("8 to 18 English letters or digits; at most one dot and one underscore, not at the start or end."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
        error_messages={"required": _("Type the ABHA address you want.")},
    )
    make_primary = forms.BooleanField(label=_("Show this address on my card"), required=False)


class NewMobileForm(forms.Form):
    mobile = forms.CharField(
        label=_("New mobile number"),
        max_length=20,
        help_text=_("We send an OTP to the new number to check that it is yours."),
        widget=_numeric(autocomplete="tel-national", autofocus=True),
        error_messages={"required": _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9.")},
    )
