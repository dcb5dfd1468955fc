from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import day_month_year_field

from .enums import Metric


class MilestoneForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    target = forms.IntegerField(label=_("Target"), min_value=1, max_value=100_000_000)
    due_date = day_month_year_field(label=_("Due date"))


class DashboardFilterForm(forms.Form):
    """Filters of the state dashboard; the choices are limited to what the viewer may see."""

    district = forms.ModelChoiceField(
        label=_("District"), queryset=None, required=False, to_field_name="lgd_code", empty_label=_("All districts")
    )
    microsite = forms.ModelChoiceField(
        label=_("Microsite"), queryset=None, required=False, to_field_name="uuid", empty_label=_("All microsites")
    )
    date_from = day_month_year_field(label=_("From"), required=False)
    date_to = day_month_year_field(label=_("To"), required=False)
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
