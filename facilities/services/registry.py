"""What the facility and the professional services share: changing a draft's fields, an officer's decision."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from abdm.client import AbdmError, AbdmUnavailable
from core.exceptions import DomainError

from ..enums import VerifyDecision

# Seconds a caller waits before asking again when ABDM's registries do not answer (the API's Retry-After).
ABDM_RETRY_AFTER = 60


class AbdmNotAnswering(DomainError):
    """ABDM's registry did not answer (down, slow, 502-504): pages keep the input and say to try in a minute; the
    API answers 503 with Retry-After."""

    status = 503
    code = "abdm_unavailable"


def abdm_refusal(error: AbdmError) -> DomainError:
    """An ABDM client error as the portal's refusal: not answering is a 503 to retry, anything else ABDM's reason
    in plain words (400)."""
    if isinstance(error, AbdmUnavailable):
        return AbdmNotAnswering(error.user_message, retry_after=ABDM_RETRY_AFTER)
    return DomainError(error.user_message, code="abdm_refused")


def validation_error(error: ValidationError) -> DomainError:
    """A model's validation error as the refusal the API and the pages show (400, the messages per field)."""
    fields = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    return DomainError(_("Some fields are not valid."), code="invalid", fields=fields)


def model_update(entry, *, fields: list[str], data: dict, exclude: list[str], validate_constraints=True) -> list[str]:
    """Set `data` on a facility or professional (strings stripped), then validate the whole entry; nothing is saved.

    Returns the names of the fields that changed. An empty state is taken from the district. Refuses (400) a name
    outside `fields`, and an entry the model finds invalid. Queries only what the model's validation reads.
    """
    unknown = set(data) - set(fields)
    if unknown:
        raise DomainError(
            _("These fields cannot be set here."), fields={name: [_("Not editable.")] for name in unknown}
        )
    changed = []
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(entry, name) != value:
            setattr(entry, name, value)
            changed.append(name)
    if entry.district_id and not entry.state_id:
        entry.state_id = entry.district.state_id
        changed.append("state")
    try:
        entry.full_clean(exclude=exclude, validate_unique=False, validate_constraints=validate_constraints)
    except ValidationError as error:
        raise validation_error(error) from None
    return changed


def decision_reason(decision: str, reason: str) -> str:
    """The officer's reason, stripped. Refuses (400) a rejection without a reason, and a decision that is neither."""
    reason = (reason or "").strip()
    if decision == VerifyDecision.REJECT and not reason:
        raise DomainError(_("Give the reason for rejecting."), fields={"reason": [_("This field is required.")]})
    if decision not in VerifyDecision.values:
        raise DomainError(_("Choose approve or reject."), fields={"decision": [_("Choose approve or reject.")]})
    return reason
