"""Pages for facility staff, doctors and citizens. Thin: parse a form, call a service, render.

Domain errors become form errors or messages; a wrong role gets 403, an object outside the
caller's scope 404.
"""

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from abha.selectors import account_for_user
from core import access
from core.exceptions import DomainError, NotFound
from facilities.enums import FacilityStatus
from facilities.models import Facility
from scanshare.models import ScanToken

from . import hiu, selectors, services
from .enums import ConsentStatus, HiType, LinkStatus
from .fhir import document_bundle, with_labels
from .forms import (
    BreakGlassForm,
    ConsentRequestForm,
    GrantForm,
    LinkFindForm,
    LinkOtpForm,
    PatientLookupForm,
    RecordAddForm,
)
from .linking.documents import record_bundle_text, record_summary
from .models import ConsentRequest, LinkRequest

HI_TYPE_LABELS = dict(HiType.choices)


def _form_error(form, error: DomainError):
    """Put a service's error on the form: its fields where the form has them, else the whole form."""
    placed = False
    for field, problems in (error.fields or {}).items():
        target = field if field in form.fields else None
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(target, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _citizen_account(request):
    account = account_for_user(request.user)
    if account is None:
        raise PermissionDenied
    return account


def _doctor_facilities(user):
    return access.scope(user, Facility.objects, "request_records").order_by("name")


def _own_facilities(user):
    """The facilities where the user works (any role): what facility pages show and act for."""
    return access.scope(user, Facility.objects, "act_for")


def _rendered(records):
    """Each record with its readable summary, labelled in the active language."""
    return [{"record": record, "summary": with_labels(record_summary(record))} for record in records]


# --- Facility staff and doctors ----------------------------------------------------------


@login_required
def facility_home(request):
    facilities = _own_facilities(request.user)
    facility_ids = set(facilities.values_list("pk", flat=True))
    if not facility_ids:
        raise PermissionDenied
    context = {
        "facilities": facilities.order_by("name"),
        "is_doctor": _doctor_facilities(request.user).exists(),
        "care_contexts": selectors.care_contexts_of_facilities(facility_ids)[:50],
        "artefacts": selectors.artefacts_covering_facilities(facility_ids)[:50],
        "lookup_form": PatientLookupForm(),
        "link_reviews": access.scope(request.user, LinkRequest.objects, "review")
        .filter(status=LinkStatus.NEEDS_REVIEW)
        .select_related("patient", "facility")
        .prefetch_related("care_contexts")
        .order_by("created_at", "id"),
        "hi_type_labels": HI_TYPE_LABELS,
    }
    return render(request, "records/facility_home.html", context)


def _initial_from_token(request, facilities) -> dict:
    """Prefill from today's Scan & Share token (`?token=<uuid>` from the counter queue).

    The token's UUID, not the ABHA number, travels in the URL; only staff of the token's facility get
    the patient's number back.
    """
    try:
        token = ScanToken.objects.select_related("patient", "facility").get(
            uuid=request.GET.get("token") or None, facility__in=facilities, day=timezone.localdate()
        )
    except (ScanToken.DoesNotExist, ValidationError):
        return {}
    if token.patient is None:  # shared by ABHA address only (ABHA app): no number to link a record to
        return {}
    today = timezone.localdate()
    return {
        "facility": token.facility,
        "patient": token.patient.abha_number,
        "reference": f"OPD-{today:%Y%m%d}-{token.counter.code}-{token.number}",
        "display": _("OPD visit, %(date)s") % {"date": formats.date_format(today, "j M Y")},
        "date": today,
    }


@login_required
def record_add(request):
    facilities = _own_facilities(request.user).filter(status=FacilityStatus.VERIFIED).order_by("name")
    if not facilities.exists():
        raise PermissionDenied
    form = RecordAddForm(
        request.POST or None,
        request.FILES or None,
        facilities=facilities,
        initial=_initial_from_token(request, facilities),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = services.patient_lookup(data["patient"])
            bundle = data.get("bundle")
            if bundle is None:
                bundle = document_bundle(
                    hi_type=data["hi_type"],
                    title=data["display"],
                    date=data["date"].isoformat(),
                    content_type=data["document"].content_type,
                    data=data["document_bytes"],
                    patient_abha=patient.abha_number,
                    patient_name=patient.full_name,
                    facility_id=data["facility"].facility_id,
                    facility_name=data["facility"].name,
                )
            record, created = services.record_add(
                actor=request.user,
                facility=data["facility"],
                patient=patient,
                reference=data["reference"],
                display=data["display"],
                date=data["date"],
                hi_type=data["hi_type"],
                bundle=bundle,
                request=request,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            if created:
                messages.success(
                    request,
                    _("Record saved for %(patient)s (version %(version)s).")
                    % {"patient": patient.abha_number_display, "version": record.version},
                )
            else:
                messages.info(request, _("This record was already saved; nothing changed."))
            return redirect("records:facility_home")
    return render(request, "records/record_add.html", {"form": form})


@login_required
def facility_patient_records(request):
    """A facility's own records of one patient; the read is audited and shown to the patient. The ABHA number or
    address comes in a POST: in a query string it would be in every access log and browser history."""
    if not _own_facilities(request.user).exists():
        raise PermissionDenied
    form = PatientLookupForm(request.POST if request.method == "POST" else None)
    records = None
    if form.is_valid():
        try:
            patient = services.patient_lookup(form.cleaned_data["patient"])
            records = _rendered(
                services.facility_records_read(actor=request.user, patient=patient, request=request).records
            )
        except DomainError as error:
            _form_error(form, error)
    return render(request, "records/facility_patient.html", {"form": form, "records": records})


@login_required
def doctor_requests(request):
    if not _doctor_facilities(request.user).exists():
        raise PermissionDenied
    context = {
        "requests": selectors.requests_by(request.user)[:100],
        "hiu_requests": hiu.requests_for_doctor(request.user)[:100],
        "notifications": selectors.notifications_for(request.user),
        "hi_type_labels": HI_TYPE_LABELS,
    }
    return render(request, "records/doctor_requests.html", context)


# --- Consent through ABDM (records.hiu) --------------------------------------------------------------------------


def _day_start(day) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _day_end(day) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


@login_required
def consent_request_new(request):
    """The doctor's consent request, sent to ABDM's consent manager; the patient answers in their ABHA app. (The
    portal's own consent manager took requests here before issue 18; its API stays for the clients of issue 5.)"""
    doctor_facilities = _doctor_facilities(request.user)
    if not doctor_facilities.exists():
        raise PermissionDenied
    form = ConsentRequestForm(request.POST or None, doctor_facilities=doctor_facilities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hiu.consent_request_create(
                actor=request.user,
                patient_address=data["patient"],
                purpose=data["purpose"],
                hi_types=data["hi_types"],
                date_from=_day_start(data["date_from"]),
                date_to=min(_day_end(data["date_to"]), timezone.now()),
                data_erase_at=data["data_erase_at"],
                access_mode=data["access_mode"],
                frequency_unit=data["frequency_unit"],
                frequency_value=data["frequency_value"],
                frequency_repeats=data["frequency_repeats"],
                hip_id=data["hip_id"].strip(),
                facility=data["facility"],
                request=request,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Consent requested through ABDM. The patient answers in their ABHA app."))
            return redirect("records:doctor_requests")
    return render(request, "records/request_new.html", {"form": form})


@login_required
@require_POST
def hiu_request_status(request, uuid):
    consent_request = get_object_or_404(hiu.HiuConsentRequest, uuid=uuid, requester=request.user)
    try:
        hiu.consent_status_ask(consent_request=consent_request, actor=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("ABDM has been asked for the request's status."))
    return redirect("records:doctor_requests")


@login_required
def hiu_artefact_records(request, uuid):
    """The records received through ABDM under one artefact (checked at read time: ended consents show nothing)."""
    try:
        artefact, records = hiu.artefact_read(actor=request.user, artefact_uuid=uuid, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "records/refused.html", {"error": error}, status=error.status)
    context = {"artefact": artefact, "records": [{"record": r, "summary": with_labels(r.summary)} for r in records]}
    return render(request, "records/hiu_artefact_records.html", context)


@login_required
def hiu_record_bundle(request, uuid, record_uuid):
    """A received bundle as a download: STORE consents only."""
    try:
        record = hiu.record_download(actor=request.user, artefact_uuid=uuid, record_uuid=record_uuid, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "records/refused.html", {"error": error}, status=error.status)
    response = HttpResponse(json.dumps(record.bundle), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{record.hi_type}-{record_uuid}.json"'
    return response


@login_required
def artefact_records(request, uuid):
    try:
        read = services.artefact_records_read(actor=request.user, artefact_uuid=uuid, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "records/refused.html", {"error": error}, status=error.status)
    context = {
        "artefact": read.artefact,
        "records": _rendered(read.records),
        "hi_type_labels": HI_TYPE_LABELS,
    }
    return render(request, "records/artefact_records.html", context)


@login_required
def artefact_record_bundle(request, uuid, record_uuid):
    """The raw FHIR bundle of one covered record, as a download (an audited read like the page)."""
    try:
        read = services.artefact_records_read(
            actor=request.user, artefact_uuid=uuid, record_uuid=record_uuid, request=request, to_store=True
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "records/refused.html", {"error": error}, status=error.status)
    if not read.records:
        raise Http404
    record = read.records[0]
    response = HttpResponse(record_bundle_text(record, record.bundle_text), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{read.records[0].hi_type}-{record_uuid}.json"'
    return response


@login_required
def btg_new(request):
    doctor_facilities = _doctor_facilities(request.user)
    if not doctor_facilities.exists():
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None, doctor_facilities=doctor_facilities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = services.btg_grant(
                actor=request.user,
                patient_identifier=data["patient"],
                reason=data["reason"],
                facility=data["facility"],
                request=request,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            return redirect("records:btg_records", uuid=grant.uuid)
    return render(request, "records/btg_new.html", {"form": form})


@login_required
def btg_records(request, uuid):
    try:
        read = services.btg_records_read(actor=request.user, grant_uuid=uuid, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "records/refused.html", {"error": error}, status=error.status)
    context = {"grant": read.grant, "records": _rendered(read.records), "hi_type_labels": HI_TYPE_LABELS}
    return render(request, "records/btg_records.html", context)


# --- Citizens ----------------------------------------------------------------------------


@login_required
def citizen_consents(request):
    account = _citizen_account(request)
    consent_requests = list(selectors.inbox_for(account))
    context = {
        "pending": [r for r in consent_requests if r.status == ConsentStatus.REQUESTED and r.is_answerable],
        "answered": [r for r in consent_requests if not (r.status == ConsentStatus.REQUESTED and r.is_answerable)],
        "artefacts": selectors.artefacts_of_patient(account),
        "hi_type_labels": HI_TYPE_LABELS,
        **hiu.citizen_view(account),
    }
    return render(request, "records/citizen_consents.html", context)


@login_required
def consent_answer(request, uuid):
    account = _citizen_account(request)
    consent_request = get_object_or_404(
        ConsentRequest.objects.select_related("requester", "requester_facility", "source_facility", "patient"),
        uuid=uuid,
    )
    if consent_request.patient_id != account.pk or not access.can(request.user, "view", consent_request):
        raise Http404
    if consent_request.source_facility_id:
        candidates = [consent_request.source_facility]
    else:
        candidates = list(
            Facility.objects.filter(pk__in=selectors.facilities_holding_records(account.pk, consent_request)).order_by(
                "name"
            )
        )
    form = GrantForm(request.POST or None, consent_request=consent_request, facilities=candidates)
    if request.method == "POST":
        try:
            if "deny" in request.POST:
                services.consent_deny(actor=request.user, request_uuid=uuid, request=request)
                messages.success(request, _("You denied the request. Nothing was shared."))
                return redirect("records:citizen_consents")
            if form.is_valid():
                data = form.cleaned_data
                _request, artefacts = services.consent_grant(
                    actor=request.user,
                    request_uuid=uuid,
                    hi_types=data["hi_types"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    data_erase_at=data["data_erase_at"],
                    facility_ids=data["facilities"] or None,
                    request=request,
                )
                messages.success(request, _("Consent granted. You can revoke it at any time."))
                return redirect("records:citizen_consents")
        except DomainError as error:
            if error.status == 409:
                messages.error(request, error.message)
                return redirect("records:citizen_consents")
            _form_error(form, error)
    context = {"consent_request": consent_request, "form": form, "hi_type_labels": HI_TYPE_LABELS}
    return render(request, "records/consent_answer.html", context)


@login_required
@require_POST
def artefact_revoke(request, uuid):
    _citizen_account(request)
    try:
        services.artefact_revoke(actor=request.user, artefact_uuid=uuid, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Consent revoked. The doctor can no longer read these records."))
    return redirect("records:citizen_consents")


@login_required
def access_log(request):
    account = _citizen_account(request)
    events = selectors.access_log_for(account)
    return render(request, "records/access_log.html", {"events": events, "hi_type_labels": HI_TYPE_LABELS})


@login_required
@require_POST
def link_review(request, uuid):
    try:
        link = services.link_review(
            actor=request.user, link_uuid=uuid, approve=request.POST.get("approve") == "1", request=request
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied from None
        messages.error(request, error.message)
    else:
        if link.status == LinkStatus.LINKED:
            messages.success(request, _("Linked to the patient's ABHA."))
        else:
            messages.info(request, _("Not linked. The patient will see that the facility refused."))
    return redirect("records:facility_home")


@login_required
def my_records(request):
    """The citizen's own records, rendered (their own reads are audited but not listed as access)."""
    _citizen_account(request)
    page = _page_number(request)
    offset = (page - 1) * MY_RECORDS_PAGE
    read = services.own_records_read(actor=request.user, request=request, offset=offset, limit=MY_RECORDS_PAGE)
    context = {
        "records": _rendered(read.records),
        "page": page,
        "older_page": page + 1 if read.has_more else None,
        "newer_page": page - 1 if page > 1 else None,
    }
    return render(request, "records/my_records.html", context)


MY_RECORDS_PAGE = 20


def _page_number(request) -> int:
    value = request.GET.get("page", "1")
    return min(int(value), 100000) if value.isdecimal() and int(value) >= 1 else 1


@login_required
def link_find(request):
    account = _citizen_account(request)
    form = LinkFindForm(request.GET or None)
    facility, matches = None, None
    if form.is_valid():
        facility = Facility.objects.filter(
            facility_id=form.cleaned_data["facility"].strip().upper(), status=FacilityStatus.VERIFIED
        ).first()
        if facility is None:
            form.add_error("facility", _("No facility has this ID."))
        else:
            matches = services.link_candidates(account, facility)
    if request.method == "POST":
        facility = get_object_or_404(Facility, facility_id=request.POST.get("facility"), status=FacilityStatus.VERIFIED)
        try:
            link = services.link_start(
                actor=request.user,
                facility=facility,
                care_context_uuids=request.POST.getlist("care_contexts"),
                request=request,
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(f"{request.path}?facility={facility.facility_id}")
        return redirect("records:link_confirm", uuid=link.uuid)
    links = LinkRequest.objects.filter(patient=account).select_related("facility").order_by("-created_at")[:20]
    context = {"form": form, "facility": facility, "matches": matches, "links": links}
    return render(request, "records/link_find.html", context)


@login_required
def link_confirm(request, uuid):
    account = _citizen_account(request)
    link = get_object_or_404(LinkRequest.objects.select_related("facility"), uuid=uuid, patient=account)
    form = LinkOtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.link_confirm_counted(
                actor=request.user, link_uuid=uuid, otp=form.cleaned_data["otp"], request=request
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            if link.status == LinkStatus.LINKED:
                messages.success(request, _("Linked. These records are now in your ABHA."))
                return redirect("records:my_records")
            messages.info(request, _("Sent to the facility to check, because the name they hold differs from yours."))
            return redirect("records:link_find")
    return render(request, "records/link_confirm.html", {"form": form, "link": link})
