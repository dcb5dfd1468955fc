"""Form widgets shared by the apps' pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

# What a day typed day first may look like (and ISO, which scripts and older links send).
DAY_MONTH_YEAR = ["%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"]


class DayMonthYearInput(forms.DateInput):
    """A date typed as text, day first (DD-MM-YYYY): a browser's date picker shows the phone's or computer's locale
    order, often mm/dd/yyyy, which reads wrongly here. Pair it with `input_formats=DAY_MONTH_YEAR`."""

    input_type = "text"

    def __init__(self, **kwargs):
        attrs = {
            "placeholder": _("DD-MM-YYYY"),
            "inputmode": "numeric",
            "autocomplete": "off",
            **kwargs.pop("attrs", {}),
        }
        super().__init__(format="%d-%m-%Y", attrs=attrs, **kwargs)


def day_month_year_field(**kwargs) -> forms.DateField:
    """A DateField entered day first."""
    return forms.DateField(widget=DayMonthYearInput(), input_formats=DAY_MONTH_YEAR, **kwargs)


def name_empty_choices(form: forms.BaseForm) -> None:
    """Drop-downs start with "Choose one" instead of Django's "---------" (which reads as a broken field)."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            if field.empty_label == "---------":
                field.empty_label = _("Choose one")
        elif isinstance(field, forms.ChoiceField) and isinstance(field.widget, forms.Select):
            choices = list(field.choices)
            if choices and choices[0][0] == "" and str(choices[0][1]) == "---------":
                field.choices = [("", _("Choose one")), *choices[1:]]
