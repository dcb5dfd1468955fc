"""Who may see records and consents (see core.access).

Records themselves are read only through the services in records.services (consent, emergency
grant, creating facility, or the patient), which audit every read; these scopes list metadata.
"""

from django.db.models import Q

from core import access
from facilities.access_rules import member_facilities_subquery, member_facility_ids
from facilities.enums import MembershipRole
from facilities.models import Facility

from .models import (
    BreakGlassGrant,
    CareContext,
    ConsentArtefact,
    ConsentRequest,
    HealthRecord,
    LinkingJob,
    LinkingReview,
    LinkRequest,
    Notification,
)


@access.scoper(CareContext)
def _care_context_scope(user, queryset):
    return queryset.filter(Q(facility_id__in=member_facility_ids(user)) | Q(patient__user=user))


@access.rule(CareContext, "view")
def _care_context_view(user, care_context):
    if care_context is None:
        return True
    return care_context.facility_id in member_facility_ids(user) or (
        care_context.patient_id is not None and care_context.patient.user_id == user.pk
    )


@access.scoper(HealthRecord)
def _record_scope(user, queryset):
    return queryset.filter(Q(facility_id__in=member_facility_ids(user)) | Q(patient__user=user))


@access.rule(HealthRecord, "view")
def _record_view(user, record):
    if record is None:
        return True
    return record.facility_id in member_facility_ids(user) or (
        record.patient_id is not None and record.patient.user_id == user.pk
    )


@access.rule(HealthRecord, "add")
def _record_add(user, record):
    return bool(member_facility_ids(user))


@access.scoper(ConsentRequest)
def _request_scope(user, queryset):
    return queryset.filter(Q(requester=user) | Q(patient__user=user))


@access.rule(ConsentRequest, "view")
def _request_view(user, consent_request):
    if consent_request is None:
        return True
    return consent_request.requester_id == user.pk or consent_request.patient.user_id == user.pk


@access.scoper(ConsentArtefact)
def _artefact_scope(user, queryset):
    return queryset.filter(
        Q(requester=user) | Q(patient__user=user) | Q(source_facility_id__in=member_facility_ids(user))
    )


@access.rule(ConsentArtefact, "view")
def _artefact_view(user, artefact):
    if artefact is None:
        return True
    return (
        artefact.requester_id == user.pk
        or artefact.patient.user_id == user.pk
        or artefact.source_facility_id in member_facility_ids(user)
    )


@access.scoper(BreakGlassGrant)
def _btg_scope(user, queryset):
    if access.is_state_official(user):
        return queryset
    return queryset.filter(Q(doctor=user) | Q(patient__user=user))


@access.rule(BreakGlassGrant, "view")
def _btg_view(user, grant):
    if grant is None:
        return access.is_state_official(user)
    return access.is_state_official(user) or grant.doctor_id == user.pk or grant.patient.user_id == user.pk


@access.rule(BreakGlassGrant, "review")
def _btg_review(user, grant):
    return access.is_state_official(user)


@access.scoper(Notification)
def _notification_scope(user, queryset):
    return queryset.filter(user=user)


@access.scoper(LinkRequest)
def _link_scope(user, queryset):
    return queryset.filter(Q(patient__user=user) | Q(facility_id__in=member_facility_ids(user)))


@access.rule(LinkRequest, "view")
def _link_view(user, link):
    if link is None:
        return True
    return link.patient.user_id == user.pk or link.facility_id in member_facility_ids(user)


# Staff and admins of the facility (not its doctors) decide weak matches.
LINK_REVIEW_ROLES = (MembershipRole.STAFF, MembershipRole.ADMIN)


@access.rule(LinkRequest, "review")
def _link_review(user, link):
    if link is None:
        return bool(member_facility_ids(user, *LINK_REVIEW_ROLES))
    return link.facility_id in member_facility_ids(user, *LINK_REVIEW_ROLES)


# A review queue lists the links of the facilities where the person is staff or admin; a superuser's is empty
# unless they are one (see core.access.scoper).
@access.scoper(LinkRequest, "review", superuser_sees_all=False)
def _link_review_scope(user, queryset):
    return queryset.filter(facility_id__in=member_facilities_subquery(user, *LINK_REVIEW_ROLES))


# --- Record-linking jobs: the facility's people and state officials ---------------------------------


def _sees_all_facilities(user) -> bool:
    return access.is_state_official(user) or getattr(user, "is_superuser", False)


@access.scoper(Facility, "link_records")
def _linking_upload_scope(user, queryset):
    """The facilities a user may upload a linking batch for: any for state officials, else their own."""
    if _sees_all_facilities(user):
        return queryset
    return queryset.filter(pk__in=member_facilities_subquery(user))


@access.scoper(LinkingJob)
def _linking_job_scope(user, queryset):
    if _sees_all_facilities(user):
        return queryset
    return queryset.filter(facility_id__in=member_facility_ids(user))


@access.rule(LinkingJob, "view")
def _linking_job_view(user, job):
    if job is None:
        return _sees_all_facilities(user) or bool(member_facility_ids(user))
    return _sees_all_facilities(user) or job.facility_id in member_facility_ids(user)


# Reviews carry the names in the facility's file and its candidates' details: only the facility's own people
# decide them (a state official may upload for a facility, but its staff know their patients).
@access.scoper(LinkingReview)
def _linking_review_scope(user, queryset):
    return queryset.filter(facility_id__in=member_facility_ids(user))


@access.rule(LinkingReview, "view")
def _linking_review_view(user, review):
    if review is None:
        return bool(member_facility_ids(user))
    return review.facility_id in member_facility_ids(user)
