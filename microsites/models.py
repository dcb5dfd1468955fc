from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, District, State
from facilities.models import Facility

from .enums import Category, Metric

MICROSITE_MONTHS = 9  # ABDM's microsite deadline: nine months from the start


class Microsite(BaseModel):
    """A cluster of (mostly small private) providers an interfacing agency onboards within a deadline.

    Its facilities are those in its districts or pincodes, plus `included_facilities`, minus
    `excluded_facilities` (see microsites.selectors.microsite_facilities).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="+")
    districts = models.ManyToManyField(District, blank=True, related_name="microsites", verbose_name=_("districts"))
    pincodes = models.JSONField(_("pincodes"), default=list, blank=True)
    category = models.CharField(_("category"), max_length=1, choices=Category.choices)
    agency = models.CharField(_("interfacing agency"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"))
    deadline = models.DateField(_("deadline"))
    included_facilities = models.ManyToManyField(Facility, blank=True, related_name="+")
    excluded_facilities = models.ManyToManyField(Facility, blank=True, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("start_date")), name="microsite_deadline_after_start"
            )
        ]

    def __str__(self):
        return self.name


class Milestone(BaseModel):
    """A target for one metric of a microsite, due on a date. `achieved_at` is set once, when first reached."""

    microsite = models.ForeignKey(Microsite, on_delete=models.CASCADE, related_name="milestones")
    metric = models.CharField(_("metric"), max_length=40, choices=Metric.choices)
    target = models.PositiveIntegerField(_("target"), validators=[MinValueValidator(1)])
    due_date = models.DateField(_("due date"))
    achieved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["microsite", "metric", "due_date"], name="milestone_unique_per_metric_date"
            ),
            models.CheckConstraint(condition=Q(target__gte=1), name="milestone_target_positive"),
        ]

    def __str__(self):
        return f"{self.microsite}: {self.get_metric_display()} {self.target} by {self.due_date}"
