"""Forms of the enrollment wizard (through ABDM) and citizen sign-in.

They only collect and type the input; the rules (and their messages) live in abha.services so
the pages and the API refuse exactly the same things.
"""

from django import forms
from django.utils.translation import gettext_lazy as _


def _numeric(attrs=None, **extra):
    return forms.TextInput(attrs={"inputmode": "numeric", **(attrs or {}), **extra})


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the text above and I agree."),
        error_messages={"required": _("Tick the box to agree before you continue.")},
    )


class OtpForm(forms.Form):
    otp = forms.CharField(
        label=_("OTP"),
        max_length=6,
        widget=_numeric(autocomplete="one-time-code", autofocus=True, maxlength=6),
        error_messages={"required": _("Enter the 6-digit OTP.")},
    )


class AadhaarForm(forms.Form):
    aadhaar = forms.CharField(
        label=_("Aadhaar number"),
        max_length=14,
        help_text=_(
            "ABDM sends an OTP to the mobile number linked with your Aadhaar. "
            "The portal sends the number to ABDM encrypted and never stores it."
        ),
        widget=_numeric(autocomplete="off", maxlength=14, autofocus=True),
        error_messages={"required": _("Enter your 12-digit Aadhaar number.")},
    )

    def clean_aadhaar(self):
        # Digits only reach the service (spaces and dashes as typed on the card are dropped); it validates.
        return "".join(ch for ch in self.cleaned_data["aadhaar"] if not ch.isspace() and ch != "-")


class AadhaarOtpForm(OtpForm):
    mobile = forms.CharField(
        label=_("Mobile number for your ABHA"),
        max_length=20,
        help_text=_(
            "Your ABHA's messages and sign-in OTPs go to this number. If it is not the one linked with your "
            "Aadhaar, ABDM sends it an OTP to check it. One number may hold up to 6 ABHAs, for a family."
        ),
        widget=_numeric(autocomplete="tel-national"),
        error_messages={"required": _("Enter a 10-digit mobile number starting with 6, 7, 8 or 9.")},
    )


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
