"""The citizen's preferences that follow them across devices: the language of the messages sent to them."""

from django.conf import settings

from ..models import AbhaAccount

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def account_language_set(*, account: AbhaAccount, language: str) -> bool:
    """Keeps `language` (one of settings.LANGUAGES) as the account's language; whether it changed.

    One conditional UPDATE, nothing when it is already the one kept. Not audited: a preference, not personal data.
    """
    if language not in LANGUAGE_CODES or account.language == language:
        return False
    AbhaAccount.objects.filter(pk=account.pk).update(language=language)
    account.language = language
    return True
