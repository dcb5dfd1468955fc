from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import Metric


class MilestoneForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    target = forms.IntegerField(label=_("Target"), min_value=1, max_value=100_000_000)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))
