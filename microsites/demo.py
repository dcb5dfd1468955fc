"""Gujarat's microsites (Bhavnagar, Ahmedabad, Surat done; Rajkot close) with milestones from live demo data."""

import datetime

from django.utils import timezone

from core.models import District, State

from .enums import Category, Metric
from .models import Microsite, Milestone
from .selectors import metric_value
from .services import default_deadline, milestones_refresh

GUJARAT = 24
# name, districts (LGD), category, agency, start
DEMO_MICROSITES = [
    ("Bhavnagar", [443], Category.B, "Bhavnagar Health Informatics Cell", datetime.date(2023, 8, 1)),
    ("Ahmedabad", [438], Category.A, "Ahmedabad Municipal Corporation Health Dept.", datetime.date(2023, 7, 15)),
    ("Surat", [459], Category.A, "Surat Municipal Corporation Health Dept.", datetime.date(2023, 7, 15)),
    ("Rajkot", [457], Category.B, "Rajkot Digital Health Mission Unit", datetime.date(2023, 10, 1)),
]
METRICS = [Metric.FACILITIES_REGISTERED, Metric.FACILITIES_VERIFIED, Metric.ABHA_CREATED]
# An ABHA milestone every microsite shares, reached in this order (the leaderboard marks the first).
RACE_DUE = datetime.date(2024, 3, 31)
RACE_ORDER = ["Bhavnagar", "Ahmedabad", "Surat", "Rajkot"]


def seed(*, out, **_) -> dict:
    gujarat = State.objects.get(lgd_code=GUJARAT)
    microsites = []
    for name, district_codes, category, agency, start in DEMO_MICROSITES:
        microsite, created = Microsite.objects.get_or_create(
            name=name,
            defaults={
                "state": gujarat,
                "category": category,
                "agency": agency,
                "start_date": start,
                "deadline": default_deadline(start),
            },
        )
        if created:
            microsite.districts.set(District.objects.filter(lgd_code__in=district_codes))
            due = microsite.deadline - datetime.timedelta(days=30)
            for metric in METRICS:
                # Targets follow the live demo data: reached everywhere but one of Rajkot's ("close").
                value = metric_value(microsite, metric)
                short = 5 if name == "Rajkot" and metric == Metric.FACILITIES_VERIFIED else 0
                Milestone.objects.create(microsite=microsite, metric=metric, target=max(1, value + short), due_date=due)
            achieved_on = timezone.make_aware(
                datetime.datetime.combine(due - datetime.timedelta(days=20), datetime.time(12))
            )
            milestones_refresh(microsite=microsite, now=achieved_on)
        microsites.append(microsite)
    _abha_race(microsites)
    out.write(f"  microsites: {', '.join(m.name for m in microsites)}")
    return {"microsites": microsites}


def _abha_race(microsites) -> None:
    """One shared "ABHA numbers created" target, reached by the microsites in RACE_ORDER a fortnight apart."""
    values = {microsite.name: metric_value(microsite, Metric.ABHA_CREATED) for microsite in microsites}
    target = max(1, min(values.values()))
    for microsite in sorted(microsites, key=lambda m: RACE_ORDER.index(m.name)):
        _, created = Milestone.objects.get_or_create(
            microsite=microsite, metric=Metric.ABHA_CREATED, due_date=RACE_DUE, defaults={"target": target}
        )
        if created:
            reached_on = RACE_DUE - datetime.timedelta(days=80 - 14 * RACE_ORDER.index(microsite.name))
            milestones_refresh(
                microsite=microsite, now=timezone.make_aware(datetime.datetime.combine(reached_on, datetime.time(11)))
            )
