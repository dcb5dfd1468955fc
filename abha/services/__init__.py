"""Every write of the ABHA app: OTP transactions, enrollment, sign-in, the citizen's own account.

Services take keyword arguments, run in one database transaction, and raise
core.exceptions.DomainError (or a subclass) with a stable `code` and a translated message.
SMS goes out after the commit (core.sms.send_on_commit), so an OTP is never sent for a rolled-back request.
"""

from .account import (  # noqa: F401 - the package's public services
    account_confirm,
    account_otp_start,
    account_update_contact,
    address_add,
)
from .enrolment import (  # noqa: F401 - the package's public services
    ENROLMENT_TTL,
    GENDER_ALIASES,
    MAX_ABHA_PER_MOBILE,
    NUMBER_ATTEMPTS,
    details_clean,
    enrolment_complete,
    enrolment_save_details,
    enrolment_start,
    enrolment_verified,
)
from .login import (  # noqa: F401 - the package's public services
    login_candidates,
    login_finish,
    login_start,
    lookup_audit,
)
from .otp import (  # noqa: F401 - the package's public services
    OTP_MAX_ATTEMPTS,
    OTP_MAX_RESENDS,
    OTP_RESEND_AFTER,
    OTP_TRANSACTION_RETENTION,
    OTP_TTL,
    otp_resend,
    otp_transactions_purge,
    otp_verify,
)
from .preferences import account_language_set  # noqa: F401 - the package's public services
