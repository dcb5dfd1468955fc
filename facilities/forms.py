"""The registration wizard's steps, the officer's decision and the counter form.

The forms only parse input; the services validate the whole facility again and write it.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from abdm import hfr
from core.models import District, State
from core.widgets import DAY_MONTH_YEAR, DayMonthYearInput, name_empty_choices

from .enums import DOCTOR_SYSTEMS, FacilityType, NurseCadre, ProfessionalCategory, SystemOfMedicine, VerifyDecision
from .fields import FACILITY_STEP_FIELDS, PROFESSIONAL_FIELDS
from .models import Facility, Professional

STEPS = [
    ("basic", _("Basic details")),
    ("location", _("Location")),
    ("contact", _("Contact and timings")),
    ("review", _("Check and submit")),
]


class FacilityStepForm(forms.ModelForm):
    """What the steps of the wizard share: the labels, help and inputs of every facility field."""

    class Meta:
        model = Facility
        fields = []
        labels = {
            "facility_id": _("HFR ID"),
            "name": _("Facility name"),
            "ownership": _("Ownership"),
            "private_subtype": _("Private subtype"),
            "facility_type": _("Facility type"),
            "service_type": _("Type of service"),
            "beds": _("Number of beds"),
            "address": _("Address"),
            "pincode": _("Pincode"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "region": _("Rural or urban"),
            "contact_mobile": _("Contact mobile"),
            "contact_email": _("Contact email"),
            "contact_landline": _("Landline"),
            "timings": _("Timings"),
        }
        help_texts = {
            "facility_id": _(
                "The facility ID that ABDM's Health Facility Registry (HFR) gave your facility, e.g. IN2410000123. "
                "Not on HFR yet? Leave it empty: the registration stays a draft until you enter it."
            ),
            "name": _("As on the signboard and on HFR. It must start with a letter."),
            "private_subtype": _("Only for private facilities."),
            "latitude": _("Type it, or use the button to take it from this device. Example: 21.7645"),
            "longitude": _("Example: 72.1519"),
            "timings": _("For example: Mon-Sat 09:00-17:00, emergency 24 hours"),
        }
        widgets = {
            "pincode": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 6}),
            "latitude": forms.TextInput(attrs={"inputmode": "decimal"}),
            "longitude": forms.TextInput(attrs={"inputmode": "decimal"}),
            "contact_mobile": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 10}),
            "contact_landline": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_empty_choices(self)

    def validate_unique(self):
        """The services check that an HFR ID is not taken, with their own message."""

    def service_data(self) -> dict:
        """This step's fields, as the facility services take them."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class BasicForm(FacilityStepForm):
    facility_id = forms.CharField(
        label=_("HFR ID"),
        max_length=20,
        required=False,
        help_text=FacilityStepForm.Meta.help_texts["facility_id"],
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    systems_of_medicine = forms.MultipleChoiceField(
        label=_("Systems of medicine"),
        choices=SystemOfMedicine.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta(FacilityStepForm.Meta):
        fields = FACILITY_STEP_FIELDS["basic"]

    def clean_facility_id(self):
        typed = self.cleaned_data.get("facility_id") or ""
        if typed.strip() and not hfr.normalise_hfr_id(typed):
            raise forms.ValidationError(_("An HFR ID is IN followed by 10 digits, e.g. IN2410000123."))
        # None, not "", when left empty (not on HFR yet: a draft): the model's format check allows only NULL or an ID.
        return hfr.normalise_hfr_id(typed) or None


class LocationForm(FacilityStepForm):
    state = forms.ModelChoiceField(label=_("State"), queryset=State.objects.order_by("name"), required=False)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.select_related("state").order_by("name"), required=False
    )

    class Meta(FacilityStepForm.Meta):
        fields = FACILITY_STEP_FIELDS["location"]


class ContactForm(FacilityStepForm):
    class Meta(FacilityStepForm.Meta):
        fields = FACILITY_STEP_FIELDS["contact"]


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
        label=_("CSV or XLSX file of facilities"),
        help_text=_(
            "Columns: facility_id (the HFR ID; a new facility needs it), name, facility_type, ownership, district_lgd, "
            "address, pincode, contact_mobile, beds, systems_of_medicine (separated by ;), service_type, region, "
            "latitude, longitude."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


SUB_CATEGORY_CHOICES = [
    ("", _("None")),
    (
        _("Doctors: system of medicine"),
        [(code, label) for code, label in SystemOfMedicine.choices if code in DOCTOR_SYSTEMS],
    ),
    (_("Nurses: cadre"), NurseCadre.choices),
]


class ProfessionalForm(forms.ModelForm):
    """One page: who they are, their registration, one qualification, where they work."""

    hpr_id = forms.CharField(
        label=_("HPR ID"),
        max_length=20,
        required=False,
        help_text=_(
            "Your Healthcare Professional ID from ABDM's professional registry (HPR), e.g. 71-1227-4427-0212. "
            "It is checked with HPR. Not on HPR yet? Register at hpr.abdm.gov.in first."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    sub_category = forms.ChoiceField(label=_("Sub-category"), choices=SUB_CATEGORY_CHOICES, required=False)
    district = forms.ModelChoiceField(label=_("District"), queryset=District.objects.order_by("name"), required=False)
    degree = forms.CharField(label=_("Qualification (degree)"), max_length=100, required=False)
    college = forms.CharField(label=_("College"), max_length=200, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2100, required=False)
    facility_ids = forms.CharField(
        label=_("Facilities you work at"),
        required=False,
        help_text=_("Facility IDs separated by commas, e.g. IN2410007919. The facility confirms it."),
    )

    class Meta:
        model = Professional
        # One qualification is asked as degree, college and year; `service_data` makes the list of it.
        fields = [name for name in PROFESSIONAL_FIELDS if name != "qualifications"]
        labels = {
            "name": _("Full name"),
            "category": _("Category"),
            "council": _("Council"),
            "registration_number": _("Registration number"),
            "registration_date": _("Registration date"),
            "registration_type": _("Permanent or renewable"),
            "renewal_due_date": _("Renewal due date"),
            "work_status": _("Work status"),
            "mobile": _("Mobile number"),
            "email": _("Email"),
        }
        widgets = {
            "registration_date": DayMonthYearInput(),
            "renewal_due_date": DayMonthYearInput(),
            "mobile": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 10}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("registration_date", "renewal_due_date"):  # typed day first (DayMonthYearInput)
            self.fields[name].input_formats = DAY_MONTH_YEAR
        name_empty_choices(self)
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            first = (instance.qualifications or [{}])[0]
            self.initial.update(
                hpr_id=instance.hpr_id_display,
                degree=first.get("degree", ""),
                college=first.get("college", ""),
                year=first.get("year"),
                facility_ids=", ".join(
                    a.facility.facility_id
                    for a in instance.affiliations.select_related("facility")
                    if a.facility.facility_id
                ),
            )

    def clean_hpr_id(self):
        typed = (self.cleaned_data.get("hpr_id") or "").strip()
        if typed and not hfr.normalise_hpr_id(typed):
            raise forms.ValidationError(_("An HPR ID has 14 digits, e.g. 71-1227-4427-0212."))
        return hfr.normalise_hpr_id(typed) or None  # as the HFR ID above: NULL until the professional has one

    def clean_facility_ids(self):
        codes = [
            code.strip().upper() for code in (self.cleaned_data.get("facility_ids") or "").split(",") if code.strip()
        ]
        facilities = {f.facility_id: f.uuid for f in Facility.objects.filter(facility_id__in=codes)}
        unknown = [code for code in codes if code not in facilities]
        if unknown:
            raise forms.ValidationError(_("No facility has this ID: %(ids)s") % {"ids": ", ".join(unknown)})
        return [facilities[code] for code in codes]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data = {
            name: ("" if value is None and name not in ("registration_date", "renewal_due_date", "district") else value)
            for name, value in data.items()
        }
        degree = (self.cleaned_data.get("degree") or "").strip()
        data["qualifications"] = (
            [
                {
                    "degree": degree,
                    "college": self.cleaned_data.get("college") or "",
                    "year": self.cleaned_data.get("year"),
                }
            ]
            if degree
            else []
        )
        data["facility_uuids"] = self.cleaned_data.get("facility_ids") or []
        return data


class StatusChangeForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("suspend", _("Suspend")), ("reinstate", _("Reinstate")), ("close", _("Close"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
