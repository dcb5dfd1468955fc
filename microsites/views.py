import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core import access
from core.exceptions import DomainError

from . import dashboard as dashboard_selectors
from .forms import MilestoneForm
from .models import Microsite
from .selectors import leaderboard, microsite_facilities, microsite_progress, microsites_for
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


def _coverage_chart(rows, *, width=480, bar_x=150, bar_height=16, gap=6):
    """Geometry of the server-rendered SVG bar chart: one bar per district, scaled to the highest coverage."""
    top = max((row.coverage_percent or 0 for row in rows), default=0) or 1
    room = width - bar_x - 60
    bars = []
    for index, row in enumerate(rows):
        y = index * (bar_height + gap)
        length = round(room * (row.coverage_percent or 0) / top, 1)
        bars.append(
            {
                "label": row.local_name,
                "value": row.coverage_percent,
                "y": y,
                "width": length,
                "text_y": y + bar_height - 4,
                "value_x": bar_x + length + 6,
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": max(1, len(rows) * (bar_height + gap)),
        "bar_x": bar_x,
        "bar_height": bar_height,
    }


@login_required
def dashboard(request):
    _require_official(request.user)
    districts = dashboard_selectors.dashboard_districts(request.user, settings.PORTAL_STATE_LGD)
    rows = dashboard_selectors.district_rows(districts)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="abha-coverage-by-district.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["district_lgd", "district", "abha_accounts", "population", "coverage_percent", "facilities_verified"]
        )
        for row in rows:
            writer.writerow(
                [
                    row.lgd_code,
                    row.name,
                    row.abha_accounts,
                    row.population or "",
                    row.coverage_percent if row.coverage_percent is not None else "",
                    row.facilities_verified,
                ]
            )
        return response
    context = {
        "summary": dashboard_selectors.summary(districts),
        "rows": rows,
        "chart": _coverage_chart(rows),
        "leaderboard": leaderboard(microsites_for(request.user)),
    }
    return render(request, "microsites/dashboard.html", context)
