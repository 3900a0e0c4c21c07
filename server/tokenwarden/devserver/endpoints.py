"""Non-grant endpoints on authlib's classes: device authorization, revocation, userinfo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from authlib.oauth2.rfc6749 import (
    OAuth2Request,
    ResourceProtector,
)
from authlib.oauth2.rfc6750 import (
    BearerTokenValidator,
    InvalidTokenError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint

from .grants import CLIENT_AUTH_METHODS
from .models import IssuedToken, TokenStatus
from .state import DevState
from .wire import wire_number

if TYPE_CHECKING:
    from .authorization import DevAuthorizationServer


class DevDeviceAuthorizationEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    """RFC 8628 device authorization: issues device and user codes."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(
        self,
        server: DevAuthorizationServer,
        *,
        verification_uri: str,
        ttl: float,
        interval: float,
    ) -> None:
        super().__init__(server)
        self._verification_uri = verification_uri
        self._ttl = ttl
        self._interval = interval
        # authlib reads these class constants for the response body.
        self.EXPIRES_IN = wire_number(ttl)
        self.INTERVAL = wire_number(interval)

    @property
    def dev(self) -> DevAuthorizationServer:
        """The authorization server, typed."""
        return cast("DevAuthorizationServer", self.server)

    def get_verification_uri(self) -> str:
        """``ISSUER/device``."""
        return self._verification_uri

    def generate_user_code(self) -> str:
        """An authlib ``BCDF-GHJK`` code (no vowels, no digits), unique among live codes."""
        while True:
            user_code = cast(str, super().generate_user_code())
            if not self.dev.state.user_code_taken(user_code):
                return user_code

    def save_device_credential(
        self, client_id: str, scope: str | None, data: dict[str, Any]
    ) -> None:
        """Keep the codes until they expire or are exchanged."""
        self.dev.state.add_device_credential(
            client_id=client_id, scope=scope, data=data, interval=self._interval, ttl=self._ttl
        )


class DevRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009 revocation; a refresh token takes its whole grant with it."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def dev(self) -> DevAuthorizationServer:
        """The authorization server, typed."""
        return cast("DevAuthorizationServer", self.server)

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        """Look the token up, trying the hinted type first."""
        state = self.dev.state
        lookups = [state.by_access_token, state.by_refresh_token]
        if token_type_hint == "refresh_token":  # noqa: S105 (a token type name, not a secret)
            lookups.reverse()
        for lookup in lookups:
            issued = lookup(token_string)
            if issued is not None:
                return issued
        return None

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        """Revoke an access token alone, or a refresh token with its grant (RFC 7009 2.1)."""
        if request.form["token"] == token.refresh_token:
            self.dev.state.revoke_family(token.family)
        else:
            token.access_revoked = True


class DevBearerTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    """RFC 6750 bearer validation for userinfo, saying why a token is refused."""

    def __init__(self, state: DevState) -> None:
        super().__init__()
        self._state = state

    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        """The token response the access token came from."""
        return self._state.by_access_token(token_string)

    def validate_token(self, token: IssuedToken | None, scopes: Any, request: Any) -> None:
        """Refuse unknown, expired and revoked tokens with invalid_token."""
        if token is None:
            raise InvalidTokenError("unknown access token")
        status = token.access_status()
        if status is TokenStatus.EXPIRED:
            raise InvalidTokenError("access token expired")
        if status is TokenStatus.REVOKED:
            raise InvalidTokenError("access token revoked")


def userinfo_protector(state: DevState) -> Any:
    """A ResourceProtector that accepts the server's live bearer tokens."""
    protector = ResourceProtector()
    protector.register_token_validator(DevBearerTokenValidator(state))
    return protector
