"""Every write of the ABHA app: enrollment and sign-in through ABDM, OTP transactions, the citizen's own account.

Services take keyword arguments and raise core.exceptions.DomainError (or a subclass) with a stable `code` and a
translated message; calls to ABDM (abdm.m1) raise the same kind, with `abdm_unavailable` (503) when ABDM is not
answering. SMS the portal sends itself goes out after the commit (core.sms.send_on_commit).
"""

from .account import (  # noqa: F401 - the package's public services
    account_confirm,
    account_otp_start,
    account_update_contact,
    address_add,
    mobile_change_confirm,
)
from .enrolment import (  # noqa: F401 - the package's public services
    GENDER_ALIASES,
    STEP_ADDRESS,
    STEP_EXISTING,
    STEP_MOBILE_OTP,
    account_from_profile,
    enrolment_complete,
    enrolment_mobile_resend,
    enrolment_start,
    enrolment_suggestions,
    enrolment_verified,
    enrolment_verify_aadhaar,
    enrolment_verify_mobile,
    tokens_store,
)
from .login import (  # noqa: F401 - the package's public services
    login_candidates,
    login_finish,
    login_resend,
    login_start,
    login_verify,
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
from .profile import account_card, account_profile_refresh, account_x_token  # noqa: F401 - public services
