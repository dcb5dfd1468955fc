"""Plain functions over the sandbox's linked care contexts, for the rest of the sandbox (the consent manager in
abdm_sandbox/consent reads them) and for the linking views. A care context belongs to an ABHA account: asking by
any of the account's addresses (or its number) finds all of them."""

import re

from django.db.models import Count, Q

from ..abha import identity
from ..abha.models import AbhaAddress, Account
from ..models import BridgeService
from .models import CareContext


def account_for_address(value) -> tuple[Account | None, str]:
    """The ABHA account behind an address (`name@sbx`, or the default `<14 digits>@sbx`), and the address in
    full, lower case."""
    if not isinstance(value, str) or not value.strip():
        return None, ""
    full = identity.full_address(value.strip().lower())
    local, _, suffix = full.partition("@")
    if suffix == identity.ADDRESS_SUFFIX and identity.ABHA_NUMBER.match(local):
        return Account.objects.filter(abha_number=local).first(), full
    row = AbhaAddress.objects.select_related("account").filter(address=full).first()
    return (row.account if row else None), full


def abha_digits(value) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _owner(abha_address: str) -> Q:
    account, full = account_for_address(abha_address)
    if account is not None:
        return Q(abha_number=account.abha_number) | Q(abha_address=full)
    return Q(abha_address=full or str(abha_address).lower())


def as_dict(context: CareContext, hip_names: dict | None = None) -> dict:
    return {
        "hipId": context.hip_id,
        "hipName": (hip_names or {}).get(context.hip_id, ""),
        "abhaAddress": context.abha_address,
        "abhaNumber": context.abha_number,
        "patientReference": context.patient_reference,
        "patientDisplay": context.patient_display,
        "referenceNumber": context.reference_number,
        "display": context.display,
        "hiTypes": list(context.hi_types),
        "source": context.source,
        "linkedAt": context.linked_at.isoformat(),
    }


def care_contexts_for(abha_address: str, hip_id: str | None = None) -> list[dict]:
    """The care contexts linked to the account behind `abha_address` (at `hip_id` only, when given), oldest
    first: [{hipId, hipName, abhaAddress, abhaNumber, patientReference, patientDisplay, referenceNumber, display,
    hiTypes, source, linkedAt}] (hipName: the HIP service's name on its bridge, "" when it has none)."""
    contexts = CareContext.objects.filter(_owner(abha_address))
    if hip_id:
        contexts = contexts.filter(hip_id=hip_id)
    contexts = list(contexts.order_by("linked_at", "pk"))
    names = hip_names({context.hip_id for context in contexts})
    return [as_dict(context, names) for context in contexts]


def hip_names(hip_ids) -> dict[str, str]:
    """{HIP ID: its service name} (an HIP served by several bridges: its oldest service's name)."""
    names = {}
    rows = BridgeService.objects.filter(service_id__in=set(hip_ids)).order_by("-pk").values_list("service_id", "name")
    for service_id, name in rows:
        names[service_id] = name
    return names


def is_linked(abha_address: str, hip_id: str, patient_reference: str, reference_number: str) -> bool:
    """Is that care context of `hip_id` linked to the account behind `abha_address`?"""
    return (
        CareContext.objects.filter(_owner(abha_address))
        .filter(hip_id=hip_id, patient_reference=patient_reference, reference_number=reference_number)
        .exists()
    )


def hip_ids_for(abha_address: str) -> list[str]:
    """The HIPs at which the account behind `abha_address` has linked care contexts."""
    rows = CareContext.objects.filter(_owner(abha_address)).values_list("hip_id", flat=True).distinct()
    return sorted(rows)


def link_counts(hip_id: str | None = None) -> list[dict]:
    """Per HIP: linked care contexts, distinct (HIP, patient, care context) rows (always equal: a care context is
    linked once), ABHA accounts and how many were linked by the HIP or by the patient."""
    contexts = CareContext.objects.all()
    if hip_id:
        contexts = contexts.filter(hip_id=hip_id)
    rows = (
        contexts.values("hip_id")
        .annotate(
            care_contexts=Count("pk"),
            patients=Count("abha_address", distinct=True),
            by_hip=Count("pk", filter=Q(source=CareContext.Source.HIP)),
            by_user=Count("pk", filter=Q(source=CareContext.Source.USER)),
        )
        .order_by("hip_id")
    )
    return list(rows)
