"""The registration wizard's steps, the officer's decision and the counter form.

The forms only parse input; the services validate the whole facility again and write it.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import District, State

from .enums import FacilityType, ProfessionalCategory, SystemOfMedicine, VerifyDecision
from .models import Facility

STEP_FIELDS = {
    "basic": [
        "name",
        "ownership",
        "private_subtype",
        "systems_of_medicine",
        "facility_type",
        "service_type",
        "beds",
    ],
    "location": ["state", "district", "address", "pincode", "latitude", "longitude", "region"],
    "contact": ["contact_mobile", "contact_email", "contact_landline", "timings"],
}
STEPS = [
    ("basic", _("Basic details")),
    ("location", _("Location")),
    ("contact", _("Contact and timings")),
    ("review", _("Check and submit")),
]


class BasicForm(forms.ModelForm):
    systems_of_medicine = forms.MultipleChoiceField(
        label=_("Systems of medicine"),
        choices=SystemOfMedicine.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Facility
        fields = STEP_FIELDS["basic"]
        labels = {
            "name": _("Facility name"),
            "ownership": _("Ownership"),
            "private_subtype": _("Private subtype"),
            "facility_type": _("Facility type"),
            "service_type": _("Type of service"),
            "beds": _("Number of beds"),
        }
        help_texts = {
            "name": _("As on the signboard. It must start with a letter."),
            "private_subtype": _("Only for private facilities."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True


class LocationForm(forms.ModelForm):
    state = forms.ModelChoiceField(label=_("State"), queryset=State.objects.order_by("name"), required=False)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.select_related("state").order_by("name"), required=False
    )

    class Meta:
        model = Facility
        fields = STEP_FIELDS["location"]
        labels = {
            "address": _("Address"),
            "pincode": _("Pincode"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "region": _("Rural or urban"),
        }
        help_texts = {
            "latitude": _("Type it, or use the button to take it from this device. Example: 21.7645"),
            "longitude": _("Example: 72.1519"),
        }
        widgets = {
            "pincode": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 6}),
            "latitude": forms.TextInput(attrs={"inputmode": "decimal"}),
            "longitude": forms.TextInput(attrs={"inputmode": "decimal"}),
        }


class ContactForm(forms.ModelForm):
    class Meta:
        model = Facility
        fields = STEP_FIELDS["contact"]
        labels = {
            "contact_mobile": _("Contact mobile"),
            "contact_email": _("Contact email"),
            "contact_landline": _("Landline"),
            "timings": _("Timings"),
        }
        help_texts = {"timings": _("For example: Mon-Sat 09:00-17:00, emergency 24 hours")}
        widgets = {
            "contact_mobile": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 10}),
            "contact_landline": forms.TextInput(attrs={"inputmode": "numeric"}),
        }


STEP_FORMS = {"basic": BasicForm, "location": LocationForm, "contact": ContactForm}


class SubmitForm(forms.Form):
    confirm_not_duplicate = forms.BooleanField(
        label=_("I have checked the list above: my facility is a different one."), required=False
    )


class VerifyForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=VerifyDecision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason (required when rejecting; the facility sees it)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == VerifyDecision.REJECT and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for rejecting."))
        return cleaned


class CounterForm(forms.Form):
    code = forms.CharField(label=_("Counter code"), max_length=20, help_text=_("For example OPD1"))
    name = forms.CharField(label=_("Counter name"), max_length=100, help_text=_("For example General OPD"))


class InviteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[("staff", _("Staff")), ("admin", _("Facility admin"))])


class DirectoryForm(forms.Form):
    """The public directory's search: what to look for and the filters (all optional)."""

    kind = forms.ChoiceField(
        label=_("Search"),
        choices=[("facilities", _("Facilities")), ("professionals", _("Professionals"))],
        required=False,
    )
    q = forms.CharField(label=_("Name or ID"), max_length=100, required=False)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.order_by("name"), required=False, empty_label=_("All districts")
    )
    facility_type = forms.ChoiceField(
        label=_("Facility type"), choices=[("", _("All types")), *FacilityType.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("All categories")), *ProfessionalCategory.choices], required=False
    )
    system = forms.ChoiceField(
        label=_("System of medicine"), choices=[("", _("All systems")), *SystemOfMedicine.choices], required=False
    )


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of facilities"),
        help_text=_(
            "Columns: facility_id (to update), name, facility_type, ownership, district_lgd, address, pincode, "
            "contact_mobile, beds, systems_of_medicine (separated by ;), service_type, region, latitude, longitude."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
