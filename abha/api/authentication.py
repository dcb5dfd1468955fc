"""API token authentication that also loads a citizen's ABHA account in the same query.

Most citizen endpoints (Scan & Share, records, consents) start from the caller's account: one query less on each.
"""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class TokenWithAccountAuthentication(TokenAuthentication):
    model = Token

    def authenticate_credentials(self, key):
        token = (
            Token.objects.select_related("user", "user__abha", "user__abha__district", "user__abha__state")
            .filter(key=key)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token
