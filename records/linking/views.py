"""Pages for linking jobs: upload, live progress, the error report, and the review of uncertain matches."""

import uuid as uuid_lib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import access
from core.exceptions import DomainError, NotFound
from facilities.enums import FacilityStatus
from facilities.models import Facility

from ..abdm_linking import job_abdm_progress
from ..models import LinkingJob
from . import files, selectors, services

NO_SCRIPT_REFRESH_SECONDS = 5  # the job page's meta refresh while the job runs, for browsers without JavaScript
SELECT_LIMIT = 50  # more facilities than this (a state official's 17,800) are chosen by ID, not from a list


class UploadForm(forms.Form):
    facility = forms.ModelChoiceField(queryset=Facility.objects.none(), label=gettext_lazy("Facility"))
    file = forms.FileField(
        label=gettext_lazy("Batch file"),
        help_text=gettext_lazy(
            "CSV (UTF-8) with one row per record, NDJSON of FHIR bundles, or a ZIP of a CSV with PDFs."
        ),
    )

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = facilities
        first = list(facilities[: SELECT_LIMIT + 1])
        if len(first) <= SELECT_LIMIT:
            self.fields["facility"].queryset = facilities
            if len(first) == 1:  # the user's only facility: chosen already, with no empty choice to fall back to
                self.fields["facility"].initial = first[0].pk
                self.fields["facility"].empty_label = None
        else:
            self.fields["facility"] = forms.CharField(
                label=gettext_lazy("Facility ID"),
                max_length=40,
                help_text=gettext_lazy("The facility's ID in the registry, e.g. IN2410007919."),
            )

    def clean_facility(self):
        value = self.cleaned_data["facility"]
        if isinstance(value, Facility):
            return value
        facility = services.facility_by_key(value)
        if facility is None or not self.allowed.filter(pk=facility.pk).exists():
            raise forms.ValidationError(_("No verified facility has this ID."))
        return facility


def _upload_facilities(user):
    verified = Facility.objects.filter(status=FacilityStatus.VERIFIED).order_by("name")
    return access.scope(user, verified, "link_records")


def _require_linking_user(request):
    if not access.can(request.user, "view", LinkingJob):
        raise PermissionDenied


def _job(request, uuid):
    try:
        return services.job_for(request.user, uuid)
    except DomainError:
        raise Http404 from None


def _refused(error: DomainError) -> None:
    """A service's refusal answers like the API: 404 for what the caller may not see, 403 for what they may not do."""
    if error.status == 404:
        raise Http404 from None
    if error.status == 403:
        raise PermissionDenied from None


@login_required
def linking_home(request):
    """Upload a batch; this facility's recent jobs."""
    _require_linking_user(request)
    facilities = list(_upload_facilities(request.user)[:1])
    too_large = request.method == "POST" and files.upload_too_large(request)
    if too_large:  # refused from the Content-Length alone: the form stays unbound, so the body is never read
        form = UploadForm(None, facilities=_upload_facilities(request.user))
    else:
        form = UploadForm(request.POST or None, request.FILES or None, facilities=_upload_facilities(request.user))
    if form.is_bound and form.is_valid():
        try:
            job = services.job_create(
                actor=request.user,
                facility=form.cleaned_data["facility"],
                uploaded_file=form.cleaned_data["file"],
                request=request,
            )
        except DomainError as error:
            for field, problems in (error.fields or {"__all__": [error.message]}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            return redirect("records:linking_job", job.uuid)
    context = {
        "form": form,
        "upload_error": files.too_large_message() if too_large else "",
        "facilities": facilities,
        "jobs": selectors.jobs_for(request.user, limit=30),
        "pending_reviews": selectors.reviews_for(request.user, limit=1),
        "required_columns": files.REQUIRED_COLUMNS,
        "optional_columns": files.OPTIONAL_COLUMNS,
        "max_mb": settings.LINKING_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "records/linking_home.html", context)


def _render_job(request, uuid, template: str):
    job = _job(request, uuid)
    context = {
        "job": job,
        "may_cancel": services.may_upload_for(request.user, job.facility),
        # Reviews are decided by the facility's own people (see the LinkingReview scope), not by an uploader.
        "may_review": access.scope(request.user, Facility.objects.filter(pk=job.facility_id), "act_for").exists(),
        "refresh_seconds": NO_SCRIPT_REFRESH_SECONDS,
        "abdm": job_abdm_progress(job),
    }
    return render(request, template, context)


@login_required
def linking_job(request, uuid):
    return _render_job(request, uuid, "records/linking_job.html")


@login_required
def linking_progress(request, uuid):
    """The progress card alone: htmx swaps it in every second while the job is open."""
    return _render_job(request, uuid, "records/_linking_progress.html")


@login_required
def linking_errors(request, uuid):
    job = _job(request, uuid)
    response = StreamingHttpResponse(selectors.error_report_lines(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="linking-errors-{job.uuid}.csv"'
    return response


@login_required
@require_POST
def linking_cancel(request, uuid):
    try:
        services.job_cancel(actor=request.user, job_uuid=uuid, request=request)
    except DomainError as error:
        _refused(error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("The job was cancelled. Rows already linked stay linked."))
    return redirect("records:linking_job", uuid)


@login_required
def linking_reviews(request):
    """Rows matched on demographics without certainty: link each to one candidate, or reject it."""
    _require_linking_user(request)
    if request.method == "POST":
        choice, review = request.POST.get("account", ""), request.POST.get("review", "")
        if not _is_uuid(review):
            raise Http404
        account_id = None
        if choice and choice != "reject":
            try:
                account_id = selectors.candidate_account_id(request.user, review, choice)
            except NotFound:
                raise Http404 from None
            if account_id is None:
                messages.error(request, _("Choose one of the suggested patients."))
                return redirect("records:linking_reviews")
        elif not choice:
            messages.error(request, _("Choose a patient, or “None of these”."))
            return redirect("records:linking_reviews")
        try:
            services.review_decide(actor=request.user, review_uuid=review, account_id=account_id, request=request)
        except DomainError as error:
            _refused(error)
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Saved.") if account_id is None else _("Linked. The patient now sees these records.")
            )
        return redirect("records:linking_reviews")
    return render(request, "records/linking_reviews.html", {"reviews": selectors.reviews_for(request.user, limit=100)})


def _is_uuid(value: str) -> bool:
    try:
        uuid_lib.UUID(value)
    except ValueError:
        return False
    return True
