"""Writes of the registries: facilities (and their counters and team) and professionals."""

from .bulk import bulk_upload_create, bulk_upload_process  # noqa: F401 - the package's public services
from .facility import (  # noqa: F401 - the package's public services
    counter_create,
    counter_update,
    facility_change_status,
    facility_create,
    facility_submit,
    facility_update,
    facility_verify,
    invitation_accept,
    invitation_decline,
    invitation_for_token,
    invitation_send,
    invitation_team_account,
    membership_remove,
)
from .professional import (  # noqa: F401 - the package's public services
    affiliation_confirm,
    professional_create,
    professional_submit,
    professional_update,
    professional_verify,
)
