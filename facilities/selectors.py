"""Reads of the facility registry, already scoped and `select_related`."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Upper
from django.http import Http404
from django.shortcuts import get_object_or_404

from core import access

from .enums import FacilityStatus, MembershipRole
from .models import Affiliation, Counter, Facility, FacilityMembership, Professional

# Words that say what kind of place it is, not which one: sharing them does not make two names alike.
GENERIC_WORDS = frozenset(
    [
        "hospital",
        "hospitals",
        "clinic",
        "clinics",
        "centre",
        "center",
        "health",
        "medical",
        "nursing",
        "home",
        "care",
        "the",
        "and",
        "general",
        "multispeciality",
        "multi",
        "speciality",
        "specialty",
        "super",
        "lab",
        "laboratory",
        "diagnostic",
        "diagnostics",
        "primary",
        "community",
        "urban",
        "rural",
        "sub",
        "district",
        "civil",
        "government",
        "govt",
        "private",
        "trust",
        "shri",
        "shree",
        "sri",
        "dr",
        "doctor",
        "pharmacy",
        "chemist",
        "wellness",
        "ayurvedic",
        "ayurveda",
        "homoeopathic",
        "homeopathic",
        "dental",
        "eye",
        "maternity",
        "children",
    ]
)


def name_words(name: str) -> list[str]:
    """The distinctive words of a facility name (lower case, 3+ letters, not generic)."""
    return [word for word in re.findall(r"\w+", name.lower()) if len(word) >= 3 and word not in GENERIC_WORDS]


def _normalise(name: str) -> str:
    return " ".join(re.findall(r"\w+", name.lower()))


def names_look_alike(a: str, b: str) -> bool:
    if SequenceMatcher(None, _normalise(a), _normalise(b)).ratio() >= 0.8:
        return True
    return bool(set(name_words(a)) & set(name_words(b)))


@dataclass(frozen=True)
class DuplicateHint:
    facility: Facility
    same_mobile: bool
    similar_name: bool


def facility_duplicates(*, facility: Facility, limit: int = 10) -> list[DuplicateHint]:
    """Other non-draft, non-closed facilities that may be the same place as `facility`.

    Alike: a similar name in the same pincode or district, or the same contact mobile.
    One query (at most 50 candidates, narrowed by the name's distinctive words); similarity is then
    decided in Python (difflib ratio or a shared distinctive word).
    """
    near = Q()
    if facility.pincode:
        near |= Q(pincode=facility.pincode)
    if facility.district_id:
        near |= Q(district_id=facility.district_id)
    condition = Q(pk__in=[])
    if near and facility.name:
        words = name_words(facility.name)
        named = Q(name__iexact=facility.name.strip())
        for word in words[:5]:
            named |= Q(name__icontains=word)
        condition |= near & named
    if facility.contact_mobile:
        condition |= Q(contact_mobile=facility.contact_mobile)
    candidates = (
        Facility.objects.filter(condition)
        .exclude(pk=facility.pk)
        .exclude(status__in=[FacilityStatus.DRAFT, FacilityStatus.CLOSED])
        .select_related("district")
        .order_by("name")[:50]
    )
    hints = []
    for other in candidates:
        same_mobile = bool(facility.contact_mobile) and other.contact_mobile == facility.contact_mobile
        similar = bool(facility.name) and names_look_alike(facility.name, other.name)
        if same_mobile or similar:
            hints.append(DuplicateHint(facility=other, same_mobile=same_mobile, similar_name=similar))
    return hints[:limit]


def _visible(queryset: QuerySet, *, user, uuid):
    """The row with this `uuid` if `user` may see it; else Http404, so an outsider learns nothing. One query."""
    entry = get_object_or_404(queryset, uuid=uuid)
    if not access.can(user, "view", entry):
        raise Http404
    return entry


def visible_facility(*, user, uuid) -> Facility:
    """The facility with its district and state, if `user` may see it (else Http404). One query."""
    return _visible(Facility.objects.select_related("district", "state"), user=user, uuid=uuid)


def _filtered(queryset: QuerySet, **lookups) -> QuerySet:
    """`queryset` filtered by each of `lookups` that has a value (a filter left empty is not applied)."""
    return queryset.filter(**{name: value for name, value in lookups.items() if value})


def _facility_search(q: str) -> Q:
    return Q(name__icontains=q) | Q(facility_id=q.upper())


def _professional_search(q: str) -> Q:
    return Q(name__icontains=q) | Q(hpr_id=q.replace("-", ""))


def facility_list(*, user, district_lgd=None, facility_type=None, status=None, q=None, mine=False) -> QuerySet:
    """Facilities `user` may see, filtered; `mine` keeps those where the user is a member. One query."""
    facilities = _filtered(
        access.scope(user, Facility.objects.all()),
        memberships__user=user if mine else None,
        district_id=district_lgd,
        facility_type=facility_type,
        status=status,
    )
    if q:
        facilities = facilities.filter(_facility_search(q))
    return facilities.select_related("district", "state").order_by("name", "id")


def work_queue(*, user) -> QuerySet:
    """Submitted facilities in `user`'s districts (all for the state official), oldest submission first."""
    return (
        access.scope(user, Facility.objects.awaiting_verification())
        .select_related("district")
        .order_by("submitted_at", "id")
    )


def my_facilities(*, user) -> QuerySet:
    """Facilities where `user` is a member, newest first."""
    return Facility.objects.filter(memberships__user=user).select_related("district").order_by("-updated_at")


def drafts_without_hfr_id(*, user) -> QuerySet:
    """Draft or rejected facilities `user` manages (admin) that have no HFR ID yet, newest first. One query."""
    return (
        Facility.objects.filter(memberships__user=user, memberships__role=MembershipRole.ADMIN)
        .filter(facility_id__isnull=True, status__in=[FacilityStatus.DRAFT, FacilityStatus.REJECTED])
        .order_by("-updated_at")
    )


def facility_counters(*, facility: Facility) -> QuerySet:
    return Counter.objects.filter(facility=facility).order_by("code")


def facility_team(*, facility: Facility) -> QuerySet:
    """The facility's members with their users, admins first."""
    return (
        FacilityMembership.objects.filter(facility=facility)
        .select_related("user")
        .order_by("role", "user__first_name", "user__username")
    )


def professionals_with_details() -> QuerySet:
    return Professional.objects.select_related("district").prefetch_related(
        Prefetch("affiliations", queryset=Affiliation.objects.select_related("facility").order_by("facility__name"))
    )


def visible_professional(*, user, uuid) -> Professional:
    """The professional with district and affiliations, if `user` may see them (else Http404). Two queries."""
    return _visible(professionals_with_details(), user=user, uuid=uuid)


def professional_list(*, user, district_lgd=None, category=None, status=None, q=None, mine=False) -> QuerySet:
    """Professionals `user` may see, filtered. Two queries per page (rows, then their affiliations)."""
    professionals = _filtered(
        access.scope(user, professionals_with_details()),
        user=user if mine else None,
        district_id=district_lgd,
        category=category,
        status=status,
    )
    if q:
        professionals = professionals.filter(_professional_search(q))
    return professionals.order_by("name", "id")


# --- Public directory ---------------------------------------------------------------------


def _has_system(queryset, system: str):
    """Facilities whose JSON list of systems holds `system` (jsonb containment, a GIN index: facilities 0007)."""
    return queryset.filter(systems_of_medicine__contains=[system])


# A name search counts exactly up to this many matches; beyond, the directory says "more than 1,000" and asks
# for a narrower search. Counting 40,000 trigram matches costs more than the 50 ms the page may take.
DIRECTORY_COUNT_CAP = 1000


@dataclass(frozen=True)
class DirectoryPage:
    rows: list
    count: int
    count_capped: bool
    number: int
    num_pages: int
    has_next: bool


def directory_page(queryset: QuerySet, *, searching: bool, number, page_size: int) -> DirectoryPage:
    """One page of a directory search, in name order, with its count. Two queries.

    Without a search term: an exact count, then the page in name order (the (status, ..., name) indexes).
    With one: first the ids of at most DIRECTORY_COUNT_CAP + 1 matches in no particular order (PostgreSQL stops
    reading once it has them), then the page among those ids in name order. Both stay small however common the
    term is; a term matching more than the cap is reported as such and the user narrows the search.
    """
    if searching:
        ids = list(queryset.order_by().values_list("id", flat=True)[: DIRECTORY_COUNT_CAP + 1])
        capped = len(ids) > DIRECTORY_COUNT_CAP
        ids = ids[:DIRECTORY_COUNT_CAP]
        count = len(ids)
        ordered = queryset.filter(id__in=ids).order_by(Upper("name"), "id")
    else:
        count, capped = queryset.count(), False
        ordered = queryset.order_by("name", "id")
    num_pages = max(1, -(-count // page_size))
    try:
        number = min(max(1, int(number or 1)), num_pages)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * page_size
    rows = list(ordered[start : start + page_size]) if count else []
    return DirectoryPage(rows, count, capped, number, num_pages, number < num_pages)


def directory_facilities(*, q=None, district_lgd=None, facility_type=None, system=None) -> QuerySet:
    """Verified facilities for anyone, filtered; name search uses the trigram index on PostgreSQL."""
    facilities = _filtered(
        Facility.objects.verified().select_related("district"), district_id=district_lgd, facility_type=facility_type
    )
    if q:
        facilities = facilities.filter(_facility_search(q))
    if system:
        facilities = _has_system(facilities, system)
    return facilities


def directory_professionals(*, q=None, district_lgd=None, category=None, system=None) -> QuerySet:
    """Verified professionals for anyone (the serializer leaves out their contact details)."""
    professionals = _filtered(
        Professional.objects.verified().select_related("district"),
        district_id=district_lgd,
        category=category,
        sub_category=system,
    )
    if q:
        professionals = professionals.filter(_professional_search(q))
    return professionals


def professional_queue(*, user) -> QuerySet:
    """Submitted professionals in `user`'s districts (all for the state official), oldest first."""
    return (
        access.scope(user, Professional.objects.filter(status=FacilityStatus.SUBMITTED))
        .select_related("district")
        .order_by("submitted_at", "id")
    )


def facility_affiliations(*, facility: Facility) -> QuerySet:
    """Professionals who say they work at `facility`, unconfirmed first."""
    return (
        Affiliation.objects.filter(facility=facility)
        .select_related("professional")
        .order_by(F("confirmed_at").asc(nulls_first=True), "professional__name")
    )
