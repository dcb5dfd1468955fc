from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import access
from core.api.renderers import csv_text
from core.enums import CountMetric
from core.exceptions import DomainError
from core.models import State

from . import charts
from . import dashboard as dashboard_selectors
from .forms import DashboardFilterForm, MilestoneForm
from .models import Microsite
from .selectors import (
    firsts_csv_cell,
    leaderboard,
    microsite_facilities,
    microsite_progress,
    microsites_for,
    public_achievements,
)
from .services import milestone_add


def _require_official(user):
    if not access.can(user, "view", Microsite):
        raise PermissionDenied


@login_required
def microsite_list(request):
    _require_official(request.user)
    rows = leaderboard(microsites_for(request.user))
    return render(request, "microsites/list.html", {"rows": rows})


@login_required
def microsite_detail(request, uuid):
    microsite = get_object_or_404(microsites_for(request.user), uuid=uuid)
    can_manage = access.can(request.user, "manage_milestones", microsite)
    form = MilestoneForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                milestone_add(actor=request.user, microsite=microsite, request=request, **form.cleaned_data)
            except DomainError as error:
                for field, errors in error.fields.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("Milestone added."))
                return redirect("microsites:detail", uuid=microsite.uuid)
    context = {
        "microsite": microsite,
        "progress": microsite_progress(microsite),
        "facility_count": microsite_facilities(microsite).count(),
        "form": form,
        "can_manage": can_manage,
    }
    return render(request, "microsites/detail.html", context, status=400 if form.errors else 200)


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """A CSV download, UTF-8 with a byte order mark (spreadsheet programs then read Gujarati and Hindi names)."""
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def dashboard(request):
    """State dashboard: headline numbers, coverage by district, the ABHA trend and the leaderboard.

    Filters narrow the districts (a district, or a microsite's districts) and the trend's dates;
    `?format=csv&table=districts|trend|leaderboard` downloads each table.
    """
    _require_official(request.user)
    allowed = dashboard_selectors.dashboard_districts(request.user, settings.PORTAL_STATE_LGD)
    microsites = microsites_for(request.user)
    form = DashboardFilterForm(request.GET or None, districts=allowed, microsites=microsites)
    districts, since, until, interval = allowed, None, None, "month"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["district"]:
            districts = districts.filter(pk=data["district"].pk)
        if data["microsite"]:
            districts = districts.filter(pk__in=data["microsite"].districts.values("pk"))
        since, until, interval = data["date_from"], data["date_to"], data["interval"] or "month"
    rows = dashboard_selectors.district_rows(districts)
    trend = dashboard_selectors.timeseries(districts, CountMetric.ABHA_CREATED, interval, since=since, until=until)
    board = leaderboard(microsites.filter(districts__in=districts).distinct())
    table = request.GET.get("table", "districts")
    if request.GET.get("format") == "csv":
        if table == "trend":
            return _csv_response(
                "abha-created-trend.csv",
                ["period", "abha_created"],
                [(point["period"].isoformat(), point["value"]) for point in trend],
            )
        if table == "leaderboard":
            return _csv_response(
                "microsite-leaderboard.csv",
                [
                    "rank",
                    "microsite",
                    "milestones_achieved",
                    "milestones_total",
                    "records_linked",
                    "facilities_verified",
                    "first_to_complete",
                    "firsts",
                ],
                [
                    (
                        r.rank,
                        r.microsite.name,
                        r.achieved,
                        r.total,
                        r.records_linked,
                        r.facilities_verified,
                        "true" if r.first_to_complete else "false",
                        firsts_csv_cell(r.firsts),
                    )
                    for r in board
                ],
            )
        return _csv_response(
            "abha-coverage-by-district.csv",
            ["district_lgd", "district", "abha_accounts", "population", "coverage_percent", "facilities_verified"],
            [
                (
                    r.lgd_code,
                    r.name,
                    r.abha_accounts,
                    r.population or "",
                    "" if r.coverage_percent is None else r.coverage_percent,
                    r.facilities_verified,
                )
                for r in rows
            ],
        )
    context = {
        "form": form,
        "summary": dashboard_selectors.summary(districts),
        "rows": rows,
        "chart": charts.bar_chart(rows),
        "trend": trend,
        "trend_chart": charts.column_chart(
            [(p["period"], p["value"]) for p in dashboard_selectors.trend_periods(trend, interval, since, until)]
        )
        if trend
        else None,
        "interval": interval,
        "leaderboard": board,
        "query": request.GET.urlencode(),
    }
    return render(request, "microsites/dashboard.html", context, status=400 if form.errors else 200)


ACHIEVEMENTS_CACHE_SECONDS = 300


def achievements(request):
    """The state's achievements for anyone (no sign-in): its figures as its ABDM press notes tell them, by district,
    and its microsites' firsts. Computed at most once per ACHIEVEMENTS_CACHE_SECONDS per language (the cache, on
    Redis), so a crowd of visitors costs the database nothing more."""
    state = settings.PORTAL_STATE_LGD
    key = f"microsites:achievements:{state}:{get_language()}"
    figures = cache.get_or_set(key, lambda: public_achievements(state), ACHIEVEMENTS_CACHE_SECONDS)
    state = State.objects.get(pk=state)
    name = getattr(state, "local_name", state.name)  # in the page's language where core knows it
    return render(request, "microsites/achievements.html", {"figures": figures, "state_name": name})
