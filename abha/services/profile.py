"""The citizen's ABHA at ABDM: the kept user token (refreshed when it expired), ABDM's card and profile."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abdm import m1

from ..models import AbhaAccount
from ..tokens import unseal
from .enrolment import account_from_profile, tokens_store

# A token this close to its expiry is refreshed first: the call it is for must not meet an expired token.
TOKEN_MARGIN = datetime.timedelta(seconds=30)


def _sign_in_again() -> m1.TokenExpired:
    return m1.TokenExpired(_("Your ABDM session has ended. Please sign in again to continue."))


def account_x_token(account: AbhaAccount, *, refresh: bool = False) -> str:
    """A user token ABDM accepts for `account`: the kept one while it is valid, else a new one from the refresh
    token (m1_token_refresh, kept sealed). Raises m1.TokenExpired when neither works: sign in again."""
    now = timezone.now()
    token = unseal(account.abdm_token)
    if token and not refresh and account.abdm_token_expires_at and account.abdm_token_expires_at > now + TOKEN_MARGIN:
        return token
    refresh_token = unseal(account.abdm_refresh_token)
    if not refresh_token or (account.abdm_refresh_expires_at and account.abdm_refresh_expires_at <= now):
        raise _sign_in_again()
    tokens = m1.token_refresh(refresh_token=refresh_token)
    with transaction.atomic():
        tokens_store(account, tokens)
    return tokens.token


def _with_token(account: AbhaAccount, call):
    """call(x_token); a token ABDM refuses is refreshed once and the call repeated."""
    for refresh in (False, True):
        try:
            return call(account_x_token(account, refresh=refresh))
        except m1.TokenExpired:
            continue
    raise _sign_in_again()


def account_card(*, account: AbhaAccount) -> m1.AbhaCard:
    """ABDM's ABHA card for the account (m1_profile_get_abha_card with the citizen's token). No write but a
    refreshed token."""
    return _with_token(account, lambda token: m1.abha_card(x_token=token))


def account_profile_refresh(*, account: AbhaAccount) -> AbhaAccount:
    """Copies ABDM's current profile of the account here (names, birth date, mobile, address, places, addresses)."""
    profile = _with_token(account, lambda token: m1.profile_get(x_token=token))
    with transaction.atomic():
        account, _created = account_from_profile(profile)
    return account
