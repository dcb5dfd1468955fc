"""Forms of the records pages. They parse input; the services decide what is allowed."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import DAY_MONTH_YEAR, DayMonthYearInput
from facilities.models import Facility

from .enums import PURPOSE_FOR_DOCTORS, AccessMode, FrequencyUnit, HiType, Purpose

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
# The first bytes of each allowed type: the browser's Content-Type is the uploader's claim, the bytes are not.
DOCUMENT_SIGNATURES = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


class DateTimeInput(forms.DateTimeInput):
    """Day-month-year and a 24-hour time typed as text, for the same reason as core.widgets.DayMonthYearInput (a
    browser's picker showed 01/02/2027 for the 1st of February)."""

    input_type = "text"

    def __init__(self, **kwargs):
        attrs = {
            "placeholder": _("DD-MM-YYYY HH:MM"),
            "inputmode": "numeric",
            "autocomplete": "off",
            **kwargs.pop("attrs", {}),
        }
        super().__init__(format="%d-%m-%Y %H:%M", attrs=attrs, **kwargs)


# A day alone means the end of that day's first minute is not what people mean: the time is required, but the ISO
# form a script or an older page sends is still read.
DAY_MONTH_YEAR_TIME = ["%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class RecordAddForm(forms.Form):
    facility = forms.ModelChoiceField(queryset=Facility.objects.none(), label=_("Facility"))
    patient = forms.CharField(
        label=_("Patient's ABHA number or ABHA address"), max_length=64, help_text=_("For example 91-1234-5678-9012.")
    )
    reference = forms.CharField(
        label=_("Visit reference"), max_length=64, help_text=_("Your own number for this visit, e.g. OPD-2025-0142.")
    )
    display = forms.CharField(
        label=_("Visit label"), max_length=200, help_text=_("Shown to the patient, e.g. OPD visit, 3 Feb 2025.")
    )
    date = forms.DateField(label=_("Visit date"), widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR)
    hi_type = forms.ChoiceField(label=_("Type of record"), choices=HiType.choices)
    bundle_file = forms.FileField(
        label=_("FHIR bundle (JSON file)"), required=False, help_text=_("A FHIR R4 document bundle from your software.")
    )
    document = forms.FileField(
        label=_("Or a PDF or photo of the record"), required=False, help_text=_("PDF, JPEG or PNG, up to 5 MB.")
    )

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities
        if facilities.count() == 1:
            self.fields["facility"].initial = facilities.first()

    def clean(self):
        cleaned = super().clean()
        bundle_file, document = cleaned.get("bundle_file"), cleaned.get("document")
        if bool(bundle_file) == bool(document):
            raise forms.ValidationError(_("Upload either a FHIR bundle or a document, not both."))
        upload = bundle_file or document
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        if bundle_file:
            try:
                cleaned["bundle"] = json.loads(bundle_file.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                self.add_error("bundle_file", _("This file is not JSON."))
        else:
            content = document.read()
            if document.content_type not in DOCUMENT_TYPES or not content.startswith(
                DOCUMENT_SIGNATURES[document.content_type]
            ):
                self.add_error("document", _("Upload a PDF, JPEG or PNG file."))
            cleaned["document_bytes"] = content
        return cleaned


class GrantForm(forms.Form):
    hi_types = forms.MultipleChoiceField(label=_("Types of record to share"), widget=forms.CheckboxSelectMultiple)
    date_from = forms.DateField(label=_("Records from"), widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR)
    date_to = forms.DateField(label=_("Records up to"), widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR)
    data_erase_at = forms.DateTimeField(
        label=_("Access ends"), widget=DateTimeInput(), input_formats=DAY_MONTH_YEAR_TIME
    )
    facilities = forms.MultipleChoiceField(
        label=_("Share records from"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, consent_request, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(HiType.choices)
        self.fields["hi_types"].choices = [(code, labels.get(code, code)) for code in consent_request.hi_types]
        self.fields["facilities"].choices = [(f.facility_id, f.name) for f in facilities]
        self.initial.setdefault("hi_types", list(consent_request.hi_types))
        self.initial.setdefault("date_from", consent_request.date_from)
        self.initial.setdefault("date_to", consent_request.date_to)
        self.initial.setdefault("data_erase_at", consent_request.data_erase_at)
        self.initial.setdefault("facilities", [f.facility_id for f in facilities])


class PatientLookupForm(forms.Form):
    patient = forms.CharField(label=_("Patient's ABHA number or ABHA address"), max_length=64)


class BreakGlassForm(forms.Form):
    patient = forms.CharField(label=_("Patient's ABHA number or ABHA address"), max_length=64)
    reason = forms.CharField(
        label=_("Reason for emergency access"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required. Every emergency access is shown to the patient and reviewed by the state."),
    )
    facility = forms.ModelChoiceField(label=_("You act for"), queryset=Facility.objects.none())

    def __init__(self, *args, doctor_facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = doctor_facilities
        if doctor_facilities.count() == 1:
            self.fields["facility"].initial = doctor_facilities.first()


class LinkFindForm(forms.Form):
    facility = forms.CharField(
        label=_("Facility ID"), max_length=12, help_text=_("Printed on the facility's QR poster, e.g. IN2410007919.")
    )


class LinkOtpForm(forms.Form):
    otp = forms.CharField(label=_("OTP sent to your ABHA mobile"), max_length=6, min_length=6)


class ConsentRequestForm(forms.Form):
    """A doctor's consent request, sent through ABDM's consent manager (records.hiu): purposes and hiTypes are
    ABDM's."""

    patient = forms.CharField(
        label=_("Patient's ABHA address"), max_length=64, help_text=_("For example asha.patel@sbx.")
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[(p.value, PURPOSE_FOR_DOCTORS[p]) for p in Purpose if p != Purpose.BREAK_THE_GLASS],
        initial=Purpose.CARE_MANAGEMENT,
    )
    hi_types = forms.MultipleChoiceField(
        label=_("Types of record"), choices=HiType.choices, widget=forms.CheckboxSelectMultiple
    )
    date_from = forms.DateField(label=_("Records from"), widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR)
    date_to = forms.DateField(label=_("Records up to"), widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR)
    data_erase_at = forms.DateTimeField(
        label=_("Access ends"),
        widget=DateTimeInput(),
        input_formats=DAY_MONTH_YEAR_TIME,
        help_text=_("After this moment you can no longer read them."),
    )
    access_mode = forms.ChoiceField(label=_("Access mode"), choices=AccessMode.choices, initial=AccessMode.VIEW)
    frequency_unit = forms.ChoiceField(label=_("Frequency unit"), choices=FrequencyUnit.choices, initial="HOUR")
    frequency_value = forms.IntegerField(label=_("Frequency value"), min_value=1, initial=1)
    frequency_repeats = forms.IntegerField(
        label=_("Reads allowed per period"), min_value=0, initial=0, help_text=_("0 means no limit.")
    )
    hip_id = forms.CharField(
        label=_("Only records from this facility (optional)"),
        max_length=64,
        required=False,
        help_text=_("Its facility ID, e.g. IN2410007919. Leave empty for records from every facility."),
    )
    facility = forms.ModelChoiceField(label=_("You act for"), queryset=Facility.objects.none())

    def __init__(self, *args, doctor_facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = doctor_facilities
        if doctor_facilities.count() == 1:
            self.fields["facility"].initial = doctor_facilities.first()
