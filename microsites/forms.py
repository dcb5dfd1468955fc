from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import Metric


class MilestoneForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    target = forms.IntegerField(label=_("Target"), min_value=1, max_value=100_000_000)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))


class DashboardFilterForm(forms.Form):
    """Filters of the state dashboard; the choices are limited to what the viewer may see."""

    district = forms.ModelChoiceField(label=_("District"), queryset=None, required=False, to_field_name="lgd_code")
    microsite = forms.ModelChoiceField(label=_("Microsite"), queryset=None, required=False, to_field_name="uuid")
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    interval = forms.ChoiceField(
        label=_("Trend by"), choices=[("month", _("Month")), ("day", _("Day"))], required=False
    )

    def __init__(self, *args, districts, microsites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts
        self.fields["district"].label_from_instance = lambda district: district.local_name
        self.fields["microsite"].queryset = microsites

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return cleaned
