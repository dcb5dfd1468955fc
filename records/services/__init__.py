"""Writes for records and consents; reads of records too, because every read writes an audit row.

Every function is keyword-only, atomic, takes `actor=` and audits in the same transaction.
Consent state changes lock the row (SELECT ... FOR UPDATE) and check its state, so of two
concurrent grants one wins and the other gets Conflict (409).
"""

from .btg import (  # noqa: F401 - the package's public services
    btg_grant,
    btg_records_read,
    btg_review,
)
from .common import (  # noqa: F401 - the package's public services
    ConsentInactive,
    RecordRead,
    doctor_facility,
    patient_lookup,
)
from .consent import (  # noqa: F401 - the package's public services
    artefact_revoke,
    consent_deny,
    consent_grant,
    consent_request_create,
    consents_expire,
)
from .link_requests import (  # noqa: F401 - the package's public services
    LINK_OTP_ATTEMPTS,
    LINK_OTP_MINUTES,
    LINK_OTPS_PER_HOUR,
    link_candidates,
    link_confirm,
    link_confirm_counted,
    link_review,
    link_start,
    normal_name,
)
from .records import (  # noqa: F401 - the package's public services
    FREQUENCY_WINDOWS,
    FrequencyExceeded,
    NotForStorage,
    artefact_records_read,
    facility_records_read,
    own_records_read,
    record_add,
)
